#!/usr/bin/env bash
# workerd, started by Miniflare (MINIFLARE_WORKERD_PATH) with the V8 flags of DD_WORKERD_V8_FLAGS
# added to the config Miniflare writes on stdin. exec keeps the pid Miniflare signals, and fd 3,
# its control pipe. See index.mjs for why.
set -euo pipefail
exec 4<&0
exec "$DD_WORKERD_BINARY" "$@" < <(node "$(dirname "$0")/add-v8-flags.mjs" <&4) 4<&-
