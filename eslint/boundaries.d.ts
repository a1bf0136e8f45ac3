import type { ESLint } from 'eslint';

export declare const boundariesPlugin: ESLint.Plugin;
