import { decryptJson, encryptJson } from "@/lib/crypto/envelope";

export type StoredCredentials = { accessToken: string; refreshToken: string };

export function sealCredentials(c: StoredCredentials): string {
  return encryptJson(c);
}

export function openCredentials(stored: string | null): StoredCredentials | null {
  return stored ? decryptJson<StoredCredentials>(stored) : null;
}
