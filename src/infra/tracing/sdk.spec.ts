import { queryNamesOnly, serviceNameFrom } from "./sdk";

describe("serviceNameFrom", () => {
  it("is auth-gateway unless OTEL_SERVICE_NAME or service.name in OTEL_RESOURCE_ATTRIBUTES says otherwise", () => {
    expect(serviceNameFrom({})).toBe("auth-gateway");
    expect(serviceNameFrom({ OTEL_SERVICE_NAME: "auth-eu" })).toBe("auth-eu");
    // undefined: the SDK's own resource detection then takes it from OTEL_RESOURCE_ATTRIBUTES.
    expect(serviceNameFrom({ OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=prod, service.name=auth-us" })).toBeUndefined();
    expect(serviceNameFrom({ OTEL_RESOURCE_ATTRIBUTES: "my.service.name=x" })).toBe("auth-gateway");
  });
});

describe("queryNamesOnly", () => {
  it("keeps the parameter names and no value", () => {
    expect(queryNamesOnly("/auth/magic-link?token=abc&redirect=https%3A%2F%2Fapp")).toBe("token=[redacted]&redirect=[redacted]");
  });
});
