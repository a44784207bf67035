import { Webhook } from "standardwebhooks";
import { SageError } from "../errors";
import type { SageApplicationRegistration, SageFileExchangeApi, SageFileExchangeTarget, SageFileScope, SageScopeFile, SageSession, SageUploadStatus } from "../target";
import { sage50Call, sage50KeyedCall } from "./http";
import { contactOfCustomer, itemOfProduct, orderOfDocument, percentageOfTaxRateId, resultOfRecord, sage50TaxRateId, type Sage50Customer, type Sage50Product, type Sage50ResultRecord } from "./records";

/**
 * Sage 50 Cloud through the Connected Cloud platform (file exchange; SAGE-FACTS.md §3,
 * SAGE-OTHER-PRODUCTS.md §B): an API key granted in Sage 50 desktop with a passcode, rotated before
 * or when it expires; products and customers downloaded as full scope files; invoices and credit
 * notes uploaded as order files and tracked until accepted, failed or badRequest.
 */

const path = (app: SageApplicationRegistration) => `/developers/${encodeURIComponent(app.developerId)}/applications/${encodeURIComponent(app.applicationId)}`;

/** Standard Webhooks with the application secret (its UTF-8 bytes as the key). */
function verifier(app: SageApplicationRegistration) {
  return new Webhook(`whsec_${Buffer.from(app.secret, "utf8").toString("base64")}`);
}

function secondsUntil(iso: string): number {
  const at = Date.parse(iso);
  if (!Number.isFinite(at)) throw new SageError("retryable", "Sage 50 Cloud answered an expiry that is not a date");
  return Math.max(0, Math.floor((at - Date.now()) / 1000));
}

function filesApi(session: SageSession): SageFileExchangeApi {
  return {
    async listFiles() {
      const r = await sage50KeyedCall(session, "GET", "/files", undefined, "Listing the Sage 50 files");
      const files = ((r.body as { files?: { scope: SageFileScope; fileId: string; updatedAt: string }[] } | null)?.files ?? []).filter((f) => f.scope === "Products" || f.scope === "Customers");
      return files.map((f) => ({ scope: f.scope, fileId: f.fileId, updatedAt: f.updatedAt }));
    },
    async downloadScope(scope): Promise<SageScopeFile> {
      const r = await sage50KeyedCall(session, "GET", `/files/${scope}`, undefined, `Downloading the Sage 50 ${scope} file`);
      const file = r.body as { fileId?: string; generatedAt?: string; records?: unknown[] } | null;
      if (!file?.fileId || !Array.isArray(file.records)) throw new SageError("retryable", `Sage 50 Cloud answered the ${scope} file without its records`);
      return scope === "Products"
        ? { scope, fileId: file.fileId, generatedAt: file.generatedAt ?? "", items: (file.records as Sage50Product[]).map(itemOfProduct) }
        : { scope, fileId: file.fileId, generatedAt: file.generatedAt ?? "", contacts: (file.records as Sage50Customer[]).map(contactOfCustomer) };
    },
    async upload(uploadId, documents) {
      const r = await sage50KeyedCall(session, "POST", "/uploads", { uploadId, scope: "Orders", records: documents.map(orderOfDocument) }, "Uploading the order file", [409]);
      const body = r.body as { trackingUrl?: string; error?: string } | null;
      if (r.status === 409 && body?.error !== "duplicate_upload") throw new SageError("validation", `Sage 50 Cloud refused the upload: ${body?.error ?? "conflict"}`, { status: 409 });
      if (!body?.trackingUrl) throw new SageError("unknown_outcome", "Sage 50 Cloud's answer to the upload carries no tracking URL");
      return { trackingUrl: body.trackingUrl, duplicate: r.status === 409 };
    },
    async tracking(uploadId) {
      const r = await sage50KeyedCall(session, "GET", `/uploads/${encodeURIComponent(uploadId)}`, undefined, "Tracking the upload", [404]);
      if (r.status === 404) return null;
      const t = r.body as { status?: SageUploadStatus; progress?: number; statusMessage?: string | null; downloadResultUrl?: string | null } | null;
      if (!t?.status) throw new SageError("retryable", "Sage 50 Cloud answered the tracking without a status");
      return { uploadId, status: t.status, progress: Number(t.progress ?? 0), statusMessage: t.statusMessage ?? null, resultUrl: t.downloadResultUrl ?? null };
    },
    async results(resultUrl) {
      const r = await sage50KeyedCall(session, "GET", resultUrl, undefined, "Downloading the upload's results");
      const records = (r.body as { records?: Sage50ResultRecord[] } | null)?.records;
      if (!Array.isArray(records)) throw new SageError("retryable", "Sage 50 Cloud answered the results without records");
      return records.map(resultOfRecord);
    },
  };
}

const none = { read: false, create: false, update: false };

export const sage50Cloud: SageFileExchangeTarget = {
  id: "sage-50-cloud",
  label: "Sage 50 Cloud",
  countries: [
    { code: "gb", label: "United Kingdom" },
    { code: "ie", label: "Ireland" },
    { code: "es", label: "Spain" },
  ],
  // file exchange: a few calls per upload, not per record; the budget still paces them
  rateLimit: { limit: 200, periodSeconds: 60 },
  // downloads give products and customers (read); uploads create invoices and credit notes; nothing
  // is updated or allocated through the platform
  capabilities: {
    contacts: { read: true, create: false, update: false },
    items: { read: true, create: false, update: false },
    invoices: { read: false, create: true, update: false },
    credit_notes: { read: false, create: true, update: false },
    allocations: none,
  },
  exchange: "file_exchange",
  credentialsKind: "api_key",
  async refreshTokens(apiKey, context) {
    const app = context?.application;
    if (!app) throw new SageError("auth", "The Sage 50 Cloud application is not registered on this deployment", { reconnectRequired: true });
    let answer: { apikey?: string; expires?: string };
    try {
      answer = await sage50Call<{ apikey?: string; expires?: string }>("PATCH", "/apikeys", { initialApikey: apiKey, secret: app.secret }, "Rotating the Sage 50 API key");
    } catch (e) {
      if (e instanceof SageError && (e.kind === "auth" || e.kind === "not_found")) throw new SageError("auth", `Sage 50 Cloud refused to rotate the API key (${e.message})`, { status: e.status, reconnectRequired: true });
      throw e;
    }
    if (!answer.apikey || !answer.expires) throw new SageError("retryable", "Sage 50 Cloud answered the rotation without a key");
    const expiresIn = secondsUntil(answer.expires);
    return { accessToken: answer.apikey, refreshToken: answer.apikey, expiresIn, refreshTokenExpiresIn: expiresIn };
  },
  onboarding: {
    registerDeveloper: (input) => sage50Call<{ registrationUrl: string }>("POST", "/developers", input, "Registering with Sage 50 Cloud"),
    async configureApplication(app, urls) {
      await sage50Call("PATCH", path(app), { secret: app.secret, ...urls }, "Setting the Sage 50 application's URLs");
    },
    async createPasscode(app) {
      const r = await sage50Call<{ passcode?: string; expires?: string }>("POST", `${path(app)}/passcodes`, { secret: app.secret }, "Asking Sage 50 Cloud for a passcode");
      if (!r.passcode || !r.expires || !Number.isFinite(Date.parse(r.expires))) throw new SageError("retryable", "Sage 50 Cloud answered without a passcode and its expiry");
      return { passcode: r.passcode, expiresAt: new Date(r.expires) };
    },
    verifyCall(app, headers, body) {
      try {
        return verifier(app).verify(body, { "webhook-id": headers.get("webhook-id") ?? "", "webhook-timestamp": headers.get("webhook-timestamp") ?? "", "webhook-signature": headers.get("webhook-signature") ?? "" });
      } catch (cause) {
        throw new SageError("auth", "The call does not carry a valid Sage 50 Cloud signature", { cause });
      }
    },
  },
  files: filesApi,
  referenceData({ itemTaxRateIds, country }) {
    const rates = new Set<string>([sage50TaxRateId(0)]);
    for (const id of itemTaxRateIds) if (id && /^rate:/.test(id)) rates.add(id);
    const c = country.toUpperCase();
    return {
      taxRates: [...rates].map((id) => ({ id, percentage: percentageOfTaxRateId(id) })),
      // Sage 50 posts an order to the nominal codes of its products: the connector sends none
      salesLedgers: [],
      defaultLedgerAccountId: "sage50:product-nominal",
      baseCurrency: c === "GB" ? "GBP" : "EUR",
      multiCurrency: false,
      country: c,
      exchangeRates: [],
    };
  },
};
