/** Ids are Postgres `uuid`s: any other text cannot match a row, and Postgres would reject the whole query (22P02). */
export const isUuid = (id: unknown): id is string =>
  typeof id === "string" && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id);
