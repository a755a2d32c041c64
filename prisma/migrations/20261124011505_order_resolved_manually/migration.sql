-- AlterEnum
ALTER TYPE "orders"."OrderStatus" ADD VALUE 'RESOLVED_MANUALLY';
