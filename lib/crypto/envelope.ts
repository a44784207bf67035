import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";

/**
 * Envelope encryption for credentials at rest (AES-256-GCM, node:crypto).
 * Each value gets its own random data key; the data key is encrypted with the master key
 * (`APP_ENCRYPTION_KEY`, 32 bytes as base64 or hex). Stored format:
 *   v1.<iv(dek)>.<tag(dek)>.<encrypted dek>.<iv>.<tag>.<ciphertext>   (base64url parts)
 */
const VERSION = "v1";

export class EncryptionKeyError extends Error {}

function parseKey(raw: string): Buffer | undefined {
  const trimmed = raw.trim();
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, "hex");
  const b64 = Buffer.from(trimmed, "base64");
  return b64.length === 32 ? b64 : undefined;
}

let cachedKey: Buffer | undefined;

/**
 * The master key. In production a missing or short `APP_ENCRYPTION_KEY` is fatal. In development
 * and tests a key is generated once into `.data/encryption.key` (and the demo says so).
 */
export function getMasterKey(): Buffer {
  if (cachedKey) return cachedKey;
  const raw = process.env.APP_ENCRYPTION_KEY;
  if (raw) {
    const key = parseKey(raw);
    if (!key) {
      throw new EncryptionKeyError(
        "APP_ENCRYPTION_KEY must be 32 random bytes, as 64 hex characters or base64 (e.g. `openssl rand -base64 32`).",
      );
    }
    cachedKey = key;
    return key;
  }
  if (process.env.NODE_ENV === "production") {
    throw new EncryptionKeyError(
      "APP_ENCRYPTION_KEY is not set. Refusing to start in production without a 32-byte encryption key for Sage credentials (generate one with `openssl rand -base64 32`).",
    );
  }
  const file = path.join(process.cwd(), ".data", "encryption.key");
  if (!fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, randomBytes(32).toString("base64"), { mode: 0o600 });
  }
  cachedKey = parseKey(fs.readFileSync(file, "utf8"));
  if (!cachedKey) throw new EncryptionKeyError(`${file} does not hold a 32-byte key`);
  return cachedKey;
}

/** Throws (with a message saying why) when the key is missing or unusable. Called at start-up. */
export function assertEncryptionKeyConfigured(): void {
  getMasterKey();
}

function seal(key: Buffer, plaintext: Buffer) {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return [iv, cipher.getAuthTag(), ciphertext].map((b) => b.toString("base64url"));
}

function open(key: Buffer, [iv, tag, ciphertext]: string[]): Buffer {
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv!, "base64url"));
  decipher.setAuthTag(Buffer.from(tag!, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext!, "base64url")), decipher.final()]);
}

export function encryptSecret(plaintext: string): string {
  const dataKey = randomBytes(32);
  const wrappedKey = seal(getMasterKey(), dataKey);
  const body = seal(dataKey, Buffer.from(plaintext, "utf8"));
  return [VERSION, ...wrappedKey, ...body].join(".");
}

export function decryptSecret(stored: string): string {
  const parts = stored.split(".");
  if (parts[0] !== VERSION || parts.length !== 7) throw new Error("Unrecognised encrypted value");
  const dataKey = open(getMasterKey(), parts.slice(1, 4));
  return open(dataKey, parts.slice(4, 7)).toString("utf8");
}

export function encryptJson(value: unknown): string {
  return encryptSecret(JSON.stringify(value));
}

export function decryptJson<T>(stored: string): T {
  return JSON.parse(decryptSecret(stored)) as T;
}

/** Tests only. */
export function resetMasterKeyForTests() {
  cachedKey = undefined;
}
