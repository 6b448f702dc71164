/**
 * The production-like sink: an R2 binding stand-in in a process of its own (a Node child), the
 * bench's headline layout. The object's process (A) gets a NATIVE `R2Bucket` binding whose requests
 * go over loopback to this server (bench/miniflare-raw-bindings.mjs, `r2-external`), so, as with
 * production R2, the object only pays for sending the bytes: nothing here runs on its thread.
 *
 * It speaks the binding's wire protocol (as Miniflare's R2 simulator does: `cf-r2-request` header for
 * reads, a JSON metadata prefix of `cf-r2-metadata-size` bytes for writes, `cf-r2-error` on errors),
 * keeps sizes and metadata only (bodies are counted and dropped), enforces R2's multipart rules
 * (part numbers 1–10,000; every part but the last the same size and ≥ 5 MiB, the last no larger;
 * `complete()` only with the latest etag of each part; no upload after complete or abort) with R2's
 * errors, and answers every call `latencyMs` after its request arrived whole.
 *
 *   node bench/r2-sink.mjs            run as a child by startR2Sink(); prints nothing, reports over IPC
 *
 * `GET /__sink/stats` (not an R2 request) returns the counters; `POST /__sink/reset` zeroes them.
 */
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { fileURLToPath } from "node:url";

const MiB = 1024 * 1024;
const LIMITS = { minPartSize: 5 * MiB, maxParts: 10_000, maxKeyBytes: 1024, maxMetadataBytes: 2048, maxValueSize: 5 * 1024 * MiB - 5 * MiB };

/** R2's errors as the binding expects them (codes and messages as Miniflare's simulator sends them). */
const ERRORS = {
  internal: [500, 10001, "We encountered an internal error. Please try again."],
  noSuchKey: [404, 10007, "The specified key does not exist."],
  entityTooLarge: [400, 100100, "Your proposed upload exceeds the maximum allowed object size."],
  entityTooSmall: [400, 10011, "Your proposed upload is smaller than the minimum allowed object size."],
  metadataTooLarge: [400, 10012, "Your metadata headers exceed the maximum allowed metadata size."],
  invalidObjectName: [400, 10020, "The specified object name is not valid."],
  noSuchUpload: [400, 10024, "The specified multipart upload does not exist."],
  invalidPart: [400, 10025, "One or more of the specified parts could not be found."],
  invalidArgument: [400, 10029, "Part number must be between 1 and 10000 (inclusive)."],
  badUpload: [500, 10048, "There was a problem with the multipart upload."],
};
class R2Failure extends Error {
  constructor(kind) {
    super(ERRORS[kind][2]);
    this.kind = kind;
  }
}

/** The server's state: objects (metadata only) and multipart uploads, plus counters. */
function createBucket() {
  const objects = new Map();
  const uploads = new Map();
  const zero = () => ({ calls: {}, bytesIn: 0, maxBodyBytes: 0, errors: {} });
  let stats = zero();
  const etag = () => randomBytes(16).toString("hex");
  const checkKey = (key) => {
    if (Buffer.byteLength(key) > LIMITS.maxKeyBytes) throw new R2Failure("invalidObjectName");
  };
  const checkMetadata = (fields = []) => {
    if (fields.reduce((n, { k, v }) => n + k.length + v.length, 0) > LIMITS.maxMetadataBytes) throw new R2Failure("metadataTooLarge");
  };
  const store = (key, size, httpFields, customFields, tag) => {
    const object = {
      name: key,
      version: etag(),
      size,
      etag: tag,
      uploaded: Date.now(),
      httpFields: httpFields ?? {},
      customFields: customFields ?? [],
      checksums: {},
    };
    objects.set(key, object);
    return object;
  };
  const openUpload = (key, uploadId) => {
    const upload = uploads.get(uploadId);
    if (!upload || upload.key !== key) throw new R2Failure("internal");
    if (upload.state !== "open") throw new R2Failure("noSuchUpload");
    return upload;
  };
  const handlers = {
    head: (m) => {
      checkKey(m.object);
      const object = objects.get(m.object);
      if (!object) throw new R2Failure("noSuchKey");
      return { object };
    },
    get: () => {
      throw new Error("the production-like sink keeps no bytes: get() is not served");
    },
    list: (m) => {
      const prefix = m.prefix ?? "";
      const limit = m.limit ?? 1000;
      const after = m.cursor ? Buffer.from(m.cursor, "base64").toString() : (m.startAfter ?? "");
      const keys = [...objects.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
      const page = keys.slice(0, limit);
      const truncated = keys.length > limit;
      return {
        list: {
          objects: page.map((k) => objects.get(k)),
          truncated,
          cursor: truncated ? Buffer.from(page.at(-1)).toString("base64") : undefined,
          delimitedPrefixes: [],
        },
      };
    },
    put: (m, size) => {
      checkKey(m.object);
      checkMetadata(m.customFields);
      if (size > LIMITS.maxValueSize) throw new R2Failure("entityTooLarge");
      return { object: store(m.object, size, m.httpFields, m.customFields, etag()) };
    },
    delete: (m) => {
      for (const key of m.objects ?? [m.object]) objects.delete(key);
      return {};
    },
    createMultipartUpload: (m) => {
      checkKey(m.object);
      checkMetadata(m.customFields);
      const uploadId = randomBytes(32).toString("base64url");
      uploads.set(uploadId, { key: m.object, state: "open", parts: new Map(), httpFields: m.httpFields, customFields: m.customFields });
      return { json: { uploadId } };
    },
    uploadPart: (m, size) => {
      checkKey(m.object);
      if (!Number.isInteger(m.partNumber) || m.partNumber < 1 || m.partNumber > LIMITS.maxParts) throw new R2Failure("invalidArgument");
      const upload = openUpload(m.object, m.uploadId);
      const part = { size, etag: randomBytes(24).toString("base64url") };
      upload.parts.set(m.partNumber, part);
      return { json: { etag: part.etag } };
    },
    completeMultipartUpload: (m) => {
      const upload = openUpload(m.object, m.uploadId);
      const seen = new Set();
      const parts = m.parts.map(({ part, etag: tag }) => {
        if (seen.has(part)) throw new R2Failure("internal");
        seen.add(part);
        const uploaded = upload.parts.get(part);
        if (uploaded?.etag !== tag) throw new R2Failure("invalidPart");
        return { part, size: uploaded.size };
      });
      if (parts.length > LIMITS.maxParts) throw new R2Failure("invalidArgument");
      for (const p of parts.slice(0, -1)) if (p.size < LIMITS.minPartSize) throw new R2Failure("entityTooSmall");
      parts.sort((a, b) => a.part - b.part);
      const size = parts[0]?.size;
      for (const p of parts.slice(0, -1)) if (p.size !== size) throw new R2Failure("badUpload");
      if (parts.length > 1 && parts.at(-1).size > size) throw new R2Failure("badUpload");
      upload.state = "completed";
      upload.parts.clear();
      const total = parts.reduce((n, p) => n + p.size, 0);
      return { object: store(m.object, total, upload.httpFields, upload.customFields, `${etag()}-${parts.length}`) };
    },
    abortMultipartUpload: (m) => {
      const upload = uploads.get(m.uploadId);
      if (!upload || upload.key !== m.object) throw new R2Failure("internal");
      if (upload.state === "open") {
        upload.state = "aborted";
        upload.parts.clear();
      }
      return {};
    },
  };
  return {
    handle(m, size) {
      stats.calls[m.method] = (stats.calls[m.method] ?? 0) + 1;
      stats.bytesIn += size;
      stats.maxBodyBytes = Math.max(stats.maxBodyBytes, size);
      const handler = handlers[m.method];
      if (!handler) throw new Error(`unknown R2 method ${m.method}`);
      try {
        return handler(m, size);
      } catch (e) {
        if (e instanceof R2Failure) stats.errors[e.kind] = (stats.errors[e.kind] ?? 0) + 1;
        throw e;
      }
    },
    stats: () => ({ ...stats, objects: objects.size, openUploads: [...uploads.values()].filter((u) => u.state === "open").length }),
    reset: () => {
      stats = zero();
    },
  };
}

/** The binding's answer: a JSON metadata document, its length in `cf-r2-metadata-size`. */
function metadataResponse(res, value) {
  const body = Buffer.from(JSON.stringify(value));
  res.writeHead(200, { "cf-r2-metadata-size": String(body.length), "content-type": "application/json", "content-length": String(body.length) });
  res.end(body);
}

function answer(res, result) {
  if (result.object) return metadataResponse(res, { ...result.object, range: { offset: 0, length: result.object.size } });
  if (result.list) return metadataResponse(res, result.list);
  if (result.json) return metadataResponse(res, result.json);
  res.writeHead(200, { "content-length": "0" });
  res.end();
}

function fail(res, error) {
  const [status, v4code, message] = error instanceof R2Failure ? ERRORS[error.kind] : [500, 10001, String(error?.message ?? error)];
  res.writeHead(status, { "cf-r2-error": JSON.stringify({ message, version: 1, v4code }), "content-length": "0" });
  res.end();
}

/** Serves the binding's requests; resolves to the server once it listens on 127.0.0.1. */
function serve(latencyMs) {
  const bucket = createBucket();
  const server = createServer((req, res) => {
    const arrived = () => new Promise((resolve) => setTimeout(resolve, latencyMs));
    if (req.url.startsWith("/__sink/")) {
      if (req.url === "/__sink/reset") bucket.reset();
      req.resume();
      return req.on("end", () => metadataResponse(res, bucket.stats()));
    }
    const header = req.headers["cf-r2-request"];
    if (header !== undefined) {
      // head, get, list: the request is in a header, no body.
      req.resume();
      req.on("end", async () => {
        let result;
        try {
          result = bucket.handle(JSON.parse(header), 0);
        } catch (e) {
          await arrived();
          return fail(res, e);
        }
        await arrived();
        answer(res, result);
      });
      return;
    }
    // Writes: `cf-r2-metadata-size` bytes of JSON, then the value, counted and dropped.
    const metadataSize = Number(req.headers["cf-r2-metadata-size"]);
    const prefix = [];
    let prefixBytes = 0;
    let valueBytes = 0;
    req.on("data", (chunk) => {
      if (prefixBytes < metadataSize) {
        const take = Math.min(metadataSize - prefixBytes, chunk.length);
        prefix.push(chunk.subarray(0, take));
        prefixBytes += take;
        valueBytes += chunk.length - take;
      } else valueBytes += chunk.length;
    });
    req.on("end", async () => {
      let result;
      try {
        if (!(prefixBytes === metadataSize && metadataSize > 0)) throw new R2Failure("internal");
        result = bucket.handle(JSON.parse(Buffer.concat(prefix).toString()), valueBytes);
      } catch (e) {
        await arrived();
        return fail(res, e);
      }
      await arrived();
      answer(res, result);
    });
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server)));
}

/**
 * Starts the sink as a child process answering after `latencyMs`.
 * @returns {Promise<{ pid: number, address: string, binding: (name: string) => object, stats: () => Promise<object>, reset: () => Promise<object>, stop: () => Promise<void> }>}
 *   `binding(name)` is the `unsafeBindings` entry giving process A the sink as R2 bucket `name`.
 */
export async function startR2Sink({ latencyMs = 30 } = {}) {
  const child = fork(fileURLToPath(import.meta.url), ["--child", String(latencyMs)], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  const address = await new Promise((resolve, reject) => {
    child.once("message", (m) => resolve(m.address));
    child.once("exit", (code) => reject(new Error(`r2-sink exited with ${code} before listening`)));
  });
  const control = async (path) => (await fetch(`http://${address}/__sink/${path}`, { method: path === "reset" ? "POST" : "GET" })).json();
  const plugin = { package: fileURLToPath(new URL("./miniflare-raw-bindings.mjs", import.meta.url)), name: "durable-dump-bench-raw" };
  return {
    pid: child.pid,
    address,
    latencyMs,
    binding: (name) => ({ name, type: "r2-external", plugin, options: { address } }),
    stats: () => control("stats"),
    reset: () => control("reset"),
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill();
      }),
  };
}

if (process.argv[2] === "--child") {
  const server = await serve(Number(process.argv[3]));
  const { address, port } = server.address();
  process.send({ address: `${address}:${port}` });
  // Ends with the bench: when the parent goes, so does the IPC channel.
  process.on("disconnect", () => process.exit(0));
}
