/**
 * The default `fetch` of the test Workers: `/__r2/<key>` streams an R2 object (tests read objects
 * this way rather than through Miniflare's binding proxy, whose streamed reads of large bodies can
 * hang under Node 20); `/<objectName>/<route...>` goes to the object named `objectName`.
 */
export async function routeTestRequest(request: Request, objects: DurableObjectNamespace, bucket: R2Bucket): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname.startsWith("/__r2/")) {
    const object = await bucket.get(decodeURIComponent(url.pathname.slice("/__r2/".length)));
    return object ? new Response(object.body) : new Response(null, { status: 404 });
  }
  const parts = url.pathname.split("/");
  const name = decodeURIComponent(parts[1] ?? "");
  if (!name) return Response.json({ error: { code: "NO_OBJECT", message: "path must be /<objectName>/<route>" } }, { status: 404 });
  const inner = new URL(url);
  inner.pathname = "/" + parts.slice(2).join("/");
  return objects.get(objects.idFromName(name)).fetch(new Request(inner.toString(), request));
}
