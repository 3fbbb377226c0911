#!/usr/bin/env bash
# The five-minute tour of the README, as a script: a cart filled from the demo catalog, checked out and paid
# through the payment provider's signed webhook; the order read three ways (strong, timeline, at a revision);
# time travel and a diff from the event store; then a paid order cancelled and refunded by the refund process.
#   BASE_URL=http://localhost:3000 scripts/tour.sh      (against a service started by `npm run start:dev`)
# Needs bash, curl and node, and the build (`npm run -s pay` runs the operator CLI); stops at the first answer
# that is not 2xx. Tokens are signed with AUTH_JWT_SECRET and the webhook with PAYMENT_WEBHOOK_SECRET when
# they are set (in the environment or .env), else with the public development secrets (what start:dev accepts).
# test/e2e/tour.e2e.spec.ts runs it against a started service, and checks that the README shows it as it is.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.." # npm run -s token and pay run in the project directory

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

# 2. The catalog (start:dev lists a demo one): skus, names, prices per currency in minor units (cents).
get "/catalog/products?limit=3"

# 3. Add two products by sku: 200, revisions 1 and 2. The shop sets names and prices: {sku, quantity} only.
send POST "/carts/$CART/items" '{"sku":"espresso-beans-1kg","quantity":2}'
send POST "/carts/$CART/items" '{"sku":"paper-filters-100","quantity":1}'

# 4. Read it (cached read): waits until the read model has our revision 2, says how fresh it is in `meta`.
#    Lines at the catalog's prices (1890, 490), total 4270.
get "/carts/$CART?minRevision=$(field revision)"
READ_AT=$(field meta.projectedAt)

# 5. Check out: 200 {revision: 3, orderId, orderPlaced: true} at the cart's prices (had the catalog
#    changed them since, 409 PRICES_CHANGED: nothing is repriced behind the shopper's back).
send POST "/carts/$CART/checkout"
ORDER=$(field orderId)

# 6. Pay: the payment provider confirms with a signed webhook (POST /webhooks/payments). This sends the
#    one it would: "payment.succeeded of 42.70 EUR applied (event evt_dev_…, order revision 1)".
npm run -s pay -- "$ORDER" --url "$BASE_URL"

# 7. Read the order folded from its stream (consistent read): status "paid", paid 4270, meta.revision 1.
get "/orders/$ORDER?consistency=strong"

# 8. Its timeline (bulk read): OrderPlaced by c-1, then OrderPaid by payment-provider, each with a summary.
get "/orders/$ORDER/timeline"

# 9. The order at revision 0, folded from the event store: status "placed", paid 0.
get "/orders/$ORDER/state?atRevision=0"

# 10. The cart as it was at an instant — when step 4 read it: revision 2, status "open", two lines.
get "/carts/$CART/state?asOf=$READ_AT"

# 11. What changed between revisions 0 and 1: status placed → paid, paid 0 → 4270, paymentId; the
#     OrderPaid event, its metadata naming the provider's event (providerEventId).
get "/orders/$ORDER/diff?from=0&to=1"

# 12. Cancel a paid order and it is refunded: a second order, paid, then cancelled only if still at
#     revision 1 (If-Match; stale: 412). The refund process appends OrderRefunded at revision 3: status
#     "cancelled", paid 6900, refunded 6900, refundDue 0.
send POST /carts '{"currency":"EUR"}'
CART2=$(field id)
send POST "/carts/$CART2/items" '{"sku":"hand-grinder","quantity":1}'
send POST "/carts/$CART2/checkout"
ORDER2=$(field orderId)
npm run -s pay -- "$ORDER2" --url "$BASE_URL"
send POST "/orders/$ORDER2/cancellation" '{"reason":"changed my mind"}' -H 'if-match: "1"'
get "/orders/$ORDER2?minRevision=3"
