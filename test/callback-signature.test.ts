import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { NOTIFY_RETRY } from "../src/jobs/callbacks.js";
import { backoffMs } from "../src/jobs/retry.js";
import { DumpError, signCallbackBody, verifyCallbackSignature } from "../src/index.js";

// The signature scheme, checked in Node against Node's own HMAC (the callback tests check it on
// callbacks sent by workerd). A receiver verifies with the same function, wherever it runs.
const SECRET = "whsec-test";
const BODY = '{"id":"20261125T201648123Z-4k7q2m9x","state":"completed"}';
const T = 1_795_637_808;
const NOW = T * 1000;

const hmac = (message: string, secret = SECRET) => createHmac("sha256", secret).update(message).digest("hex");

describe("callback signatures", () => {
  test("t=<unix seconds>,v1=<hex HMAC-SHA256 of '<t>.<body>'>", async () => {
    expect(await signCallbackBody(SECRET, BODY, T)).toBe(`t=${T},v1=${hmac(`${T}.${BODY}`)}`);
    const now = await signCallbackBody(SECRET, BODY);
    expect(Number(/^t=(\d+),/.exec(now)?.[1])).toBeCloseTo(Date.now() / 1000, -1);
    await expect(signCallbackBody(SECRET, BODY, 1.5)).rejects.toThrow(DumpError);
  });

  test("verifies the body and the time it was signed, within the tolerance (5 minutes by default)", async () => {
    const header = await signCallbackBody(SECRET, BODY, T);
    expect(await verifyCallbackSignature(SECRET, BODY, header, { now: NOW })).toBe(true);
    expect(await verifyCallbackSignature(SECRET, BODY, header, { now: NOW + 300_000 })).toBe(true);
    expect(await verifyCallbackSignature(SECRET, BODY, header, { now: NOW + 301_000 }), "a replay after 5 minutes").toBe(false);
    expect(await verifyCallbackSignature(SECRET, BODY, header, { now: NOW - 301_000 }), "a time too far ahead").toBe(false);
    expect(await verifyCallbackSignature(SECRET, BODY, header, { now: NOW + 3_000_000, toleranceSeconds: 3_600 })).toBe(true);
    expect(await verifyCallbackSignature(SECRET, BODY, header, { now: NOW + 1_000, toleranceSeconds: 0 })).toBe(false);
    const fresh = await signCallbackBody(SECRET, BODY);
    expect(await verifyCallbackSignature(SECRET, BODY, fresh), "the receiver's clock by default").toBe(true);
    await expect(verifyCallbackSignature(SECRET, BODY, header, { toleranceSeconds: -1 })).rejects.toThrow(/toleranceSeconds/);
  });

  test("refuses another body, secret or time, and malformed headers", async () => {
    const mac = hmac(`${T}.${BODY}`);
    const refused: [string, string | null, string?][] = [
      ["another body", `t=${T},v1=${mac}`, `${BODY} `],
      ["another secret", `t=${T},v1=${hmac(`${T}.${BODY}`, "other")}`],
      ["another time", `t=${T + 1},v1=${mac}`],
      ["the body alone signed (0.1.0's scheme)", `t=${T},v1=${hmac(BODY)}`],
      ["0.1.0's header", `sha256=${hmac(BODY)}`],
      ["no header", null],
      ["empty", ""],
      ["no time", `v1=${mac}`],
      ["no signature", `t=${T}`],
      ["time not a number", `t=${T}x,v1=${mac}`],
      ["signature not hex", `t=${T},v1=${"z".repeat(64)}`],
      ["signature too short", `t=${T},v1=${mac.slice(2)}`],
      ["another scheme", `t=${T},v0=${mac}`],
      ["over 1 KiB", `t=${T},v1=${mac},${"x".repeat(1024)}`],
    ];
    for (const [what, header, body = BODY] of refused) expect(await verifyCallbackSignature(SECRET, body, header, { now: NOW }), what).toBe(false);
    expect(await verifyCallbackSignature("", BODY, `t=${T},v1=${hmac(`${T}.${BODY}`, "")}`, { now: NOW }), "an empty secret").toBe(false);

    const accepted = [`v1=${mac},t=${T}`, ` t=${T} , v1=${mac} `, `t=${T},v1=${"0".repeat(64)},v1=${mac}`, `t=${T},v1=${mac.toUpperCase()}`];
    for (const header of accepted) expect(await verifyCallbackSignature(SECRET, BODY, header, { now: NOW }), header).toBe(true);
  });

  test("README states the retry schedule the code follows", () => {
    const waits = Array.from({ length: NOTIFY_RETRY.attempts - 1 }, (_, i) => backoffMs(NOTIFY_RETRY, i + 1, () => 0));
    const total = waits.reduce((sum, ms) => sum + ms, 0) / 1000;
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const spelled = `${Math.floor(total / 3600)} h ${Math.floor((total % 3600) / 60)} min ${total % 60} s`;
    expect(spelled).toBe("4 h 3 min 45 s");
    expect(readme).toContain(`${NOTIFY_RETRY.attempts} attempts`);
    expect(readme).toContain(`${NOTIFY_RETRY.baseMs / 1000} s doubling to ${NOTIFY_RETRY.maxMs / 3_600_000} h`);
    expect(readme).toContain(spelled);
  });
});
