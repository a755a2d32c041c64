-- AlterEnum
ALTER TYPE "orders"."OrderStatus" ADD VALUE 'FAILED_NEEDS_MANUAL';
