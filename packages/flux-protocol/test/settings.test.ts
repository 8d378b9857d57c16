import { describe, expect, it } from "vitest";
import {
  FluxSettingsError,
  applyConfigure,
  assertValidSettings,
  buildListenQuery,
  initialActiveConfiguration,
  parseListenQuery,
  validateSettings,
  type FluxSettings,
} from "../src/index.js";

const base: FluxSettings = { model: "flux-general-en", encoding: "linear16", sampleRate: 16000 };

describe("query build/parse", () => {
  it("round-trips settings with lists as repeated keys", () => {
    const settings: FluxSettings = {
      model: "flux-general-multi",
      encoding: "mulaw",
      sampleRate: 8000,
      eotThreshold: 0.8,
      eagerEotThreshold: 0.5,
      eotTimeoutMs: 3000,
      keyterms: ["customer service", "Voxpipe"],
      languageHints: ["en", "es"],
      numerals: true,
      mipOptOut: false,
      tags: ["a", "b"],
    };
    const query = buildListenQuery(settings);
    expect(query).toContain("keyterm=customer%20service&keyterm=Voxpipe");
    expect(query).toContain("language_hint=en&language_hint=es");
    expect(parseListenQuery(`?${query}`)).toEqual({ ok: true, settings });
  });

  it("refuses unknown parameters with INVALID_QUERY_PARAMETER", () => {
    const r = parseListenQuery(
      "model=flux-general-en&encoding=linear16&sample_rate=16000&language_hints=en&channels=1",
    );
    expect(r.ok).toBe(false);
    expect(!r.ok && r.issues.map((i) => [i.code, i.field])).toEqual([
      ["INVALID_QUERY_PARAMETER", "language_hints"],
      ["INVALID_QUERY_PARAMETER", "channels"],
    ]);
  });

  it("refuses mistyped, repeated and empty values", () => {
    const r = parseListenQuery(
      "model=flux-general-multi&encoding=linear16&sample_rate=16k&eot_threshold=0.7&eot_threshold=0.8&numerals=1&language_hint=",
    );
    expect(!r.ok && r.issues.map((i) => i.field).sort()).toEqual([
      "eot_threshold",
      "language_hint",
      "numerals",
      "sample_rate",
    ]);
  });
});

describe("validateSettings", () => {
  it("accepts the documented ranges, including eot_threshold 1.0 and eot_timeout_ms 60000", () => {
    expect(
      validateSettings({ ...base, eotThreshold: 1.0, eagerEotThreshold: 0.9, eotTimeoutMs: 60000 }),
    ).toEqual([]);
    expect(validateSettings({ model: "flux-general-en" })).toEqual([]); // containerized audio
  });

  it("names field, value and allowed range", () => {
    const [issue] = validateSettings({ ...base, eotThreshold: 0.45 });
    expect(issue).toMatchObject({
      field: "eot_threshold",
      value: 0.45,
      allowed: "a number from 0.5 to 1",
    });
    expect(issue?.message).toBe(
      "eot_threshold=0.45 is out of range: allowed a number from 0.5 to 1",
    );
    expect(validateSettings({ ...base, eotTimeoutMs: 499 })[0]?.field).toBe("eot_timeout_ms");
    expect(validateSettings({ ...base, eotTimeoutMs: 1000.5 })[0]?.field).toBe("eot_timeout_ms");
    expect(validateSettings({ ...base, eagerEotThreshold: 0.2 })[0]?.field).toBe(
      "eager_eot_threshold",
    );
    expect(validateSettings({ ...base, sampleRate: 22050 })[0]?.field).toBe("sample_rate");
    expect(validateSettings({ ...base, redact: "pii" as never })[0]?.field).toBe("redact");
    expect(validateSettings({ model: "flux" as never })[0]?.field).toBe("model");
    expect(validateSettings({ model: "flux-general-en", encoding: "linear16" })[0]?.field).toBe(
      "sample_rate",
    );
  });

  it("requires eager_eot_threshold ≤ eot_threshold (default 0.7)", () => {
    expect(validateSettings({ ...base, eagerEotThreshold: 0.8 })[0]?.message).toContain(
      "greater than eot_threshold",
    );
    expect(validateSettings({ ...base, eagerEotThreshold: 0.8, eotThreshold: 0.85 })).toEqual([]);
  });

  it("allows language_hint only on flux-general-multi and only supported codes", () => {
    expect(validateSettings({ ...base, languageHints: ["en"] })[0]?.message).toContain(
      "not supported for model flux-general-en",
    );
    expect(
      validateSettings({ ...base, model: "flux-general-multi", languageHints: ["en-GB", "ES"] }),
    ).toEqual([]);
    expect(
      validateSettings({ ...base, model: "flux-general-multi", languageHints: ["zz"] })[0]?.value,
    ).toBe("zz");
    expect(
      validateSettings({ ...base, model: "flux-general-multi", languageHints: ["en,ru"] }),
    ).toHaveLength(1);
  });

  it("limits keyterms without ever echoing them", () => {
    const secret = "x".repeat(101);
    const issues = validateSettings({
      ...base,
      keyterms: [secret, " ", ...Array.from({ length: 100 }, (_, i) => `t${i}`)],
    });
    expect(issues.map((i) => i.value)).toEqual([
      "102 terms",
      "term #1 (101 characters)",
      "term #2 (1 characters)",
    ]);
    expect(JSON.stringify(issues)).not.toContain(secret);
    expect(
      validateSettings({ ...base, keyterms: ["word ".repeat(501).trim()] }).at(-1)?.value,
    ).toBe("501 tokens");
    expect(validateSettings({ ...base, keyterms: ["term:0.15"] })).toEqual([]);
  });

  it("assertValidSettings throws FluxSettingsError with every issue", () => {
    expect(() =>
      assertValidSettings({ ...base, eotThreshold: 2, numerals: "yes" as never }),
    ).toThrowError(FluxSettingsError);
    try {
      assertValidSettings({ ...base, eotThreshold: 2, numerals: "yes" as never });
    } catch (error) {
      expect((error as FluxSettingsError).issues.map((i) => i.field)).toEqual([
        "eot_threshold",
        "numerals",
      ]);
    }
  });
});

describe("applyConfigure", () => {
  const active = initialActiveConfiguration({
    ...base,
    model: "flux-general-multi",
    languageHints: ["en-US"],
    keyterms: ["a"],
  });

  it("starts from the documented defaults", () => {
    expect(active).toEqual({
      eotThreshold: 0.7,
      eagerEotThreshold: undefined,
      eotTimeoutMs: 5000,
      keyterms: ["a"],
      languageHints: ["en"],
      numerals: false,
    });
  });

  it("updates supplied fields, replaces keyterms, keeps hints on null and clears them on []", () => {
    const r = applyConfigure(
      active,
      { thresholds: { eager_eot_threshold: 0.4 }, keyterms: ["b", "c"], language_hints: null },
      "flux-general-multi",
    );
    expect(r).toEqual({
      ok: true,
      configuration: { ...active, eagerEotThreshold: 0.4, keyterms: ["b", "c"] },
    });
    const cleared = applyConfigure(active, { language_hints: [] }, "flux-general-multi");
    expect(cleared.ok && cleared.configuration.languageHints).toEqual([]);
  });

  it("is atomic: one bad field applies nothing", () => {
    const r = applyConfigure(
      active,
      { thresholds: { eot_threshold: 0.6, eager_eot_threshold: 0.65 }, numerals: true },
      "flux-general-multi",
    );
    expect(r.ok).toBe(false);
    expect(!r.ok && r.code).toBe("INVALID_THRESHOLD");
    expect(!r.ok && r.description).toContain(
      "thresholds.eager_eot_threshold=0.65 is greater than eot_threshold",
    );
  });

  it("refuses hints on the English model and too many keyterms", () => {
    const en = initialActiveConfiguration(base);
    expect(applyConfigure(en, { language_hints: ["en"] }, "flux-general-en")).toMatchObject({
      ok: false,
      code: "INVALID_PARAMETER",
    });
    expect(
      applyConfigure(
        en,
        { keyterms: Array.from({ length: 101 }, (_, i) => `k${i}`) },
        "flux-general-en",
      ),
    ).toMatchObject({ ok: false });
  });
});
