import { PrismaPg } from '@prisma/adapter-pg';
import { PrismaClient } from '../generated/prisma/client';

export type Db = PrismaClient;

// One pool per process, shared by the services in it. Each service still only
// touches the models of its own Postgres schema.
export function createDb(databaseUrl: string, poolSize = 10): Db {
  return new PrismaClient({ adapter: new PrismaPg({ connectionString: databaseUrl, max: poolSize }) });
}

type PrismaError = { code?: string; meta?: { driverAdapterError?: { cause?: { kind?: string } } } };

/** Postgres unique_violation: P2002 from a model query, P2010 with the driver's kind from a raw one. */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const { code, meta } = err as PrismaError;
  return code === 'P2002' || (code === 'P2010' && meta?.driverAdapterError?.cause?.kind === 'UniqueConstraintViolation');
}
