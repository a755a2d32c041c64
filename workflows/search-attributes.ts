import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

// Registered on the dev server (scripts/dev-server.ts) and in docker-compose;
// filterable in the Temporal Web UI and through GET /orders?status=…
export const ORDER_STATUS = defineSearchAttributeKey('OrderStatus', SearchAttributeType.KEYWORD);
export const CUSTOMER_ID = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);
