// Import boundaries between the layers of src/ (see ARCHITECTURE.md §4):
//  - platform/ is infrastructure and imports no context and no app;
//  - a context imports another context only through that context's index.ts;
//  - contexts never import the composition roots in apps/.
// The rule resolves each relative specifier against the importing file, so it holds at any depth.
import path from 'node:path';

const SRC = path.resolve(import.meta.dirname, '..', 'src');

/** Where a file sits: { layer: 'platform' | 'contexts' | 'apps' | 'other', context?: string, rest?: string }. */
function locate(file) {
  const relative = path.relative(SRC, file);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return { layer: 'other' };
  const parts = relative.split(path.sep);
  if (parts[0] === 'contexts')
    return { layer: 'contexts', context: parts[1], rest: parts.slice(2).join('/') };
  if (parts[0] === 'platform' || parts[0] === 'apps') return { layer: parts[0] };
  return { layer: 'other' };
}

function check(context, node, specifier) {
  if (typeof specifier !== 'string' || !specifier.startsWith('.')) return;
  const from = locate(context.filename);
  const to = locate(path.resolve(path.dirname(context.filename), specifier));
  let message;
  if (from.layer === 'platform' && (to.layer === 'contexts' || to.layer === 'apps')) {
    message = `platform/ must not import ${to.layer}/ ('${specifier}')`;
  } else if (from.layer === 'contexts' && to.layer === 'apps') {
    message = `a context must not import a composition root ('${specifier}')`;
  } else if (
    from.layer === 'contexts' &&
    to.layer === 'contexts' &&
    to.context !== from.context &&
    to.rest !== 'index.ts'
  ) {
    message = `context '${from.context}' may import context '${to.context}' only through its index.ts ('${specifier}')`;
  }
  if (message) context.report({ node, message });
}

const rule = {
  meta: {
    type: 'problem',
    docs: { description: 'Keep platform/, contexts/ and apps/ inside their import boundaries' },
    schema: [],
  },
  create(context) {
    const fromSource = (node) => node.source && check(context, node.source, node.source.value);
    return {
      ImportDeclaration: fromSource,
      ExportNamedDeclaration: fromSource,
      ExportAllDeclaration: fromSource,
      ImportExpression: (node) =>
        node.source.type === 'Literal' && check(context, node.source, node.source.value),
    };
  },
};

export const boundariesPlugin = { rules: { 'import-boundaries': rule } };
