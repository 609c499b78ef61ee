/** JSON text for generated documents, written as generated: keys such as "__proto__" reach the text as they are. */

/** An object kept as its entries, in order. */
export class Entries {
  constructor(readonly entries: ReadonlyArray<readonly [string, unknown]>) {}
}

/** JSON text of a value whose objects are `Entries` (or plain JSON values). */
export const toJson = (value: unknown): string =>
  value instanceof Entries
    ? `{${value.entries.map(([k, v]) => `${JSON.stringify(k)}:${toJson(v)}`).join(",")}}`
    : Array.isArray(value)
    ? `[${value.map(toJson).join(",")}]`
    : JSON.stringify(value)
