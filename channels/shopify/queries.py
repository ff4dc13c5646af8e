"""The GraphQL Admin API documents we send (shopify.dev/docs/api/admin-graphql, API_VERSION
in units.py). Only the fields mapping.py reads are asked for: the query cost stays low."""

ORDER_FIELDS = """
  id name createdAt updatedAt cancelledAt currencyCode displayFinancialStatus
  customerLocale email phone paymentGatewayNames
  totalOutstandingSet { shopMoney { amount currencyCode } }
  customer { displayName }
  shippingAddress { name company address1 address2 city provinceCode zip countryCodeV2 phone }
  shippingLine { code title source }
  retailLocation { id }
  fulfillmentOrders(first: 1) {
    nodes {
      deliveryMethod { methodType presentedName serviceCode }
      destination { address1 address2 city province zip countryCode location { id name } }
    }
  }
  lineItems(first: 20) {
    pageInfo { hasNextPage }
    nodes {
      id sku name quantity currentQuantity unfulfilledQuantity requiresShipping
      originalUnitPriceSet { shopMoney { amount currencyCode } }
      variant { inventoryItem { measurement { weight { unit value } } } }
    }
  }
"""

# A query may cost at most 1,000 points (shopify.dev/docs/apps/build/apis/graphql-admin/
# rate-limits): an order of ORDER_FIELDS costs 155 (20 lines, its first fulfillment order), so
# pages hold 6 orders (932).
LINES_PER_ORDER = 20
ORDERS_PER_PAGE = 6

ORDERS = (
    """
query ShipflowOrders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {
    pageInfo { hasNextPage endCursor }
    nodes {"""
    + ORDER_FIELDS
    + """}
  }
}
"""
)

ORDER_FULFILMENT = """
query ShipflowOrderFulfilment($id: ID!) {
  order(id: $id) {
    fulfillments(first: 50) { id trackingInfo { company number url } }
    fulfillmentOrders(first: 50) { nodes { id status } }
  }
}
"""

FULFILLMENT_CREATE = """
mutation ShipflowFulfil($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}
"""

FULFILLMENT_TRACKING_UPDATE = """
mutation ShipflowAddParcel($fulfillmentId: ID!, $trackingInfoInput: FulfillmentTrackingInput!) {
  fulfillmentTrackingInfoUpdate(
    fulfillmentId: $fulfillmentId, trackingInfoInput: $trackingInfoInput, notifyCustomer: true
  ) {
    fulfillment { id }
    userErrors { field message }
  }
}
"""

FULFILLMENT_EVENTS = """
query ShipflowFulfilmentEvents($id: ID!) {
  fulfillment(id: $id) { events(first: 250) { nodes { status happenedAt } } }
}
"""

FULFILLMENT_EVENT_CREATE = """
mutation ShipflowFulfilmentEvent($fulfillmentEvent: FulfillmentEventInput!) {
  fulfillmentEventCreate(fulfillmentEvent: $fulfillmentEvent) {
    fulfillmentEvent { id status }
    userErrors { field message }
  }
}
"""

SUGGESTED_REFUND = """
query ShipflowSuggestedRefund($id: ID!, $refundLineItems: [RefundLineItemInput!]) {
  order(id: $id) {
    refunds(first: 50) { id note }
    suggestedRefund(refundLineItems: $refundLineItems) {
      suggestedTransactions {
        gateway
        parentTransaction { id }
        amountSet { shopMoney { amount currencyCode } }
      }
    }
  }
}
"""

REFUND_CREATE = """
mutation ShipflowRefund($input: RefundInput!) {
  refundCreate(input: $input) {
    refund { id }
    userErrors { field message }
  }
}
"""

WEBHOOK_SUBSCRIPTIONS = """
query ShipflowWebhooks($topics: [WebhookSubscriptionTopic!]) {
  webhookSubscriptions(first: 100, topics: $topics) { nodes { id topic uri } }
}
"""

WEBHOOK_SUBSCRIPTION_CREATE = """
mutation ShipflowSubscribe($topic: WebhookSubscriptionTopic!, $webhookSubscription: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $webhookSubscription) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}
"""
