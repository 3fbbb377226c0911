#!/usr/bin/env bash
# The five-minute tour of the README, as a script: a cart opened, filled, checked out and paid; the order
# read three ways (cached, strong, timeline); then time travel and a diff from the event store.
#   BASE_URL=http://localhost:3000 scripts/tour.sh      (against a service started by `npm run start:dev`)
# Needs bash, curl and node; stops at the first answer that is not 2xx. Tokens are signed with
# AUTH_JWT_SECRET when it is set, else with the public development secret (what start:dev accepts).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." # npm run -s token runs in the project directory

BASE_URL=${BASE_URL:-http://localhost:3000}
TOKEN=$(npm run -s token -- --role shopper --sub c-1)
get() { # get PATH: prints "GET PATH → status" (stderr) and the answer, and keeps the answer in $R
  R=$(curl -fsS "$BASE_URL$1" -H "authorization: Bearer $TOKEN" \
    -w "%{stderr}GET ${1//%/%%} → %{http_code}\n") && echo "$R"
}
send() { # send METHOD PATH [BODY [curl options…]]: a mutation with a fresh Idempotency-Key; $R as above
  local method=$1 path=$2 body=${3:-'{}'}
  shift $(($# < 3 ? $# : 3))
  R=$(curl -fsS -X "$method" "$BASE_URL$path" -H "authorization: Bearer $TOKEN" \
    -H 'content-type: application/json' -H "idempotency-key: $(node -p 'crypto.randomUUID()')" \
    -d "$body" -w "%{stderr}$method ${path//%/%%} → %{http_code}\n" "$@") && echo "$R"
}
field() { # field a.b.c: one field of the last answer
  node -e 'let v = JSON.parse(process.argv[2]); for (const k of process.argv[1].split(".")) v = v[k]; console.log(v)' "$1" "$R"
}

# 1. Open a cart: 201 {id, revision: 0}. Its id derives from the Idempotency-Key: a retry lands on it again.
send POST /carts '{"currency":"EUR"}'
CART=$(field id)

# 2. Add two items: 200, revisions 1 and 2. Money is an integer number of minor units (cents).
send POST "/carts/$CART/items" '{"sku":"beans-1kg","name":"Espresso beans 1 kg","quantity":2,"unitPrice":1299}'
send POST "/carts/$CART/items" '{"sku":"filter-100","name":"Paper filters (100)","quantity":1,"unitPrice":450}'

# 3. Read it (cached read): waits until the read model has our revision 2, says how fresh it is in `meta`.
get "/carts/$CART?minRevision=$(field revision)"
READ_AT=$(field meta.projectedAt)

# 4. Check out: 200 {revision: 3, orderId, orderPlaced: true}; the process manager placed the order.
send POST "/carts/$CART/checkout"
ORDER=$(field orderId)

# 5. Read the order: status "placed", total 3048, meta.revision 0.
get "/orders/$ORDER"

# 6. Pay it, conditionally on revision 0 (a stale If-Match would be 412): 200 {revision: 1}.
send POST "/orders/$ORDER/payments" "{\"paymentId\":\"pay-1\",\"amount\":$(field data.total)}" -H 'if-match: "0"'

# 7. Read it folded from its stream (consistent read): status "paid", meta.source "event-store".
get "/orders/$ORDER?consistency=strong"

# 8. Its timeline (bulk read, keyset-paginated): OrderPlaced, then OrderPaid, each with a summary.
get "/orders/$ORDER/timeline"

# 9. The order at revision 0, folded from the event store: status "placed", paid 0.
get "/orders/$ORDER/state?atRevision=0"

# 10. The cart as it was at an instant — when step 3 read it: revision 2, status "open", two lines.
get "/carts/$CART/state?asOf=$READ_AT"

# 11. What changed between revisions 0 and 1: status placed → paid, paid 0 → 3048, paymentId; the event.
get "/orders/$ORDER/diff?from=0&to=1"
