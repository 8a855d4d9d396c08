// The hub's storage contract. Hub processes keep no state of their own: TUF metadata, publishers,
// the catalog and blob records live behind this interface (SQLite by default; PostgreSQL for a fleet),
// blobs in the blob store. Every write happens inside `transaction`, which is serialised across all
// hub processes sharing the database, so snapshot/timestamp versions never fork. A transaction sees
// every transaction committed before it (by any process); readers outside one see only committed
// data. Both implementations create or migrate their schema when opened.

import type { SqlRunner } from './fleet-schema.ts';

export interface MetadataRow { role: string; version: number; body: string; createdAt: string }

export interface PublisherRow {
  name: string;
  keyIds: string[];
  threshold: number;
  modelsGlob: string;
  tokenHash: string;
  createdAt: string;
}

export interface ModelVersionRow {
  name: string;
  version: number;
  publisher: string;
  /** key ids whose signatures over the publisher's targets metadata verified */
  signedBy: string[];
  signedAt: string;
  modelSha256: string;
  cardSha256: string;
  sizeBytes: number;
  publishedAt: string;
}

export interface AliasRow { name: string; alias: string; version: number; publisher: string; updatedAt: string }

/** A publish request in progress: its checked metadata and the blobs it still needs (sha256 → length). */
export interface UploadRow { id: string; publisher: string; metadata: string; needed: Record<string, number>; createdAt: string; expiresAt: string }

export interface HubReader {
  latestMetadata(role: string): Promise<MetadataRow | undefined>;
  metadata(role: string, version: number): Promise<MetadataRow | undefined>;
  setting(key: string): Promise<string | undefined>;
  publisher(name: string): Promise<PublisherRow | undefined>;
  publisherByTokenHash(hash: string): Promise<PublisherRow | undefined>;
  publishers(): Promise<PublisherRow[]>;
  modelVersions(name?: string): Promise<ModelVersionRow[]>;
  aliases(name?: string): Promise<AliasRow[]>;
  latestVersion(name: string): Promise<number | undefined>;
  blob(sha256: string): Promise<{ length: number } | undefined>;
  upload(id: string): Promise<UploadRow | undefined>;
  /** ids of upload sessions that expired before `at` (ISO time) */
  expiredUploads(at: string): Promise<string[]>;
}

export interface HubWriter extends HubReader {
  putMetadata(row: MetadataRow): Promise<void>;
  putSetting(key: string, value: string): Promise<void>;
  putPublisher(row: PublisherRow): Promise<void>;
  deletePublisher(name: string): Promise<void>;
  putModelVersion(row: ModelVersionRow): Promise<void>;
  putAlias(row: AliasRow): Promise<void>;
  putBlob(sha256: string, length: number): Promise<void>;
  putUpload(row: UploadRow): Promise<void>;
  touchUpload(id: string, expiresAt: string): Promise<void>;
  deleteUpload(id: string): Promise<void>;
}

export interface HubStorage extends HubReader {
  readonly kind: 'sqlite' | 'postgres';
  /** where the data lives, safe to print: a file path, or the postgres:// URL without its password */
  readonly location: string;
  /** Run `fn` with exclusive write access; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: HubWriter) => Promise<T>): Promise<T>;
  /** reads of the fleet tables (fleet-schema.ts), committed data only */
  readonly fleet: SqlRunner;
  /**
   * A write transaction on the fleet tables. It does not take the repository's lock: on PostgreSQL
   * transactions of different devices run in parallel; `device` (when given) is locked first
   * (SELECT … FOR UPDATE), so one device's requests are applied one at a time across all processes.
   */
  fleetTransaction<T>(device: string | undefined, fn: (sql: SqlRunner) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
