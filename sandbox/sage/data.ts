// Per-business accounting data (phase 2 fills this in).
import type { CountryCode } from "./seed-users";

export class BusinessData {
  constructor(
    readonly businessId: string,
    readonly country: CountryCode,
    private readonly now: () => number,
  ) {}
}
