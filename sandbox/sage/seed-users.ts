// Seed Sage users and businesses. Ids are deterministic so the demo and tests can refer to them.
import { seededId } from "./ids";

export type CountryCode = "GB" | "IE";

export interface BusinessSeed {
  key: string;
  name: string;
  country: CountryCode;
  address_line_1: string;
  city: string;
  postal_code: string;
  telephone: string;
  website: string;
}

export interface UserSeed {
  key: string;
  first_name: string;
  last_name: string;
  email: string;
  locale: string;
  /** First one is the lead business. */
  businesses: string[];
}

export const BUSINESS_SEEDS: BusinessSeed[] = [
  {
    key: "morgan-gb",
    name: "Morgan Digital Ltd",
    country: "GB",
    address_line_1: "12 Market Street",
    city: "Manchester",
    postal_code: "M1 1AE",
    telephone: "0161 496 0000",
    website: "https://morgan-digital.example",
  },
  {
    key: "taylor-gb",
    name: "Taylor & Co Services Ltd",
    country: "GB",
    address_line_1: "4 Quay Side",
    city: "Newcastle upon Tyne",
    postal_code: "NE1 3DX",
    telephone: "0191 498 0000",
    website: "https://taylor-co.example",
  },
  {
    key: "taylor-ie",
    name: "Taylor Cloud Ireland Ltd",
    country: "IE",
    address_line_1: "27 Grand Canal Dock",
    city: "Dublin",
    postal_code: "D02 X285",
    telephone: "+353 1 555 0100",
    website: "https://taylor-cloud.example",
  },
];

export const USER_SEEDS: UserSeed[] = [
  {
    key: "alex",
    first_name: "Alex",
    last_name: "Morgan",
    email: "alex.morgan@example.test",
    locale: "en-GB",
    businesses: ["morgan-gb"],
  },
  {
    key: "sam",
    first_name: "Sam",
    last_name: "Taylor",
    email: "sam.taylor@example.test",
    locale: "en-GB",
    businesses: ["taylor-gb", "taylor-ie"],
  },
];

export function businessId(key: string): string {
  return seededId(`business:${key}`);
}

export function userId(key: string): string {
  return seededId(`user:${key}`);
}

export const COUNTRY_NAMES: Record<CountryCode, string> = {
  GB: "United Kingdom (GB)",
  IE: "Ireland (IE)",
};

export const COUNTRY_CURRENCY: Record<CountryCode, string> = {
  GB: "GBP",
  IE: "EUR",
};
