// JSON that keeps bigint exact across a process boundary ({"$bigint":"123"}), for test fixtures.
export function toWire(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    typeof item === 'bigint' ? { $bigint: item.toString() } : item,
  );
}

export function fromWire<T>(text: string): T {
  return JSON.parse(text, (_key, item: unknown) => {
    if (typeof item === 'object' && item !== null && '$bigint' in item) {
      return BigInt((item as { $bigint: string }).$bigint);
    }
    return item;
  }) as T;
}
