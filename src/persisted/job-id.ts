/**
 * A job id that sorts by creation time and does not collide: a UTC timestamp to the millisecond
 * and 40 random bits, e.g. `20261125T201648123Z-4k7q2m9x`.
 */
export function newJobId(now: number): string {
  const stamp = new Date(now).toISOString().replace(/[-:.]/g, "");
  const random = crypto.getRandomValues(new Uint8Array(5));
  const alphabet = "0123456789abcdefghjkmnpqrstvwxyz";
  let bits = 0n;
  for (const b of random) bits = (bits << 8n) | BigInt(b);
  let suffix = "";
  for (let i = 0; i < 8; i++) suffix += alphabet[Number((bits >> BigInt(5 * (7 - i))) & 31n)];
  return `${stamp}-${suffix}`;
}

/** Whether `id` has the shape {@link newJobId} produces. */
export function isJobId(id: unknown): id is string {
  return typeof id === "string" && /^\d{8}T\d{9}Z-[0-9a-z]{8}$/.test(id);
}
