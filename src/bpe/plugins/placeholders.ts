// Placeholders in a plugin's BPMN and FHIR files, the reference's form: #{version} (resource version),
// #{date} (resource release date), #{organization} (local organisation identifier), and
// #{some.property} or #{some.property:default} read from the environment variable SOME_PROPERTY.
// A placeholder without a value refuses the plugin.

export interface PlaceholderValues {
  resourceVersion: string;
  /** yyyy-mm-dd */
  resourceReleaseDate: string;
  organizationIdentifier: string | undefined;
  env: Record<string, string | undefined>;
}

export interface Resolved {
  text: string;
  /** Placeholders without a value. */
  missing: string[];
}

/** some.property-name -> SOME_PROPERTY_NAME */
export function environmentName(property: string): string {
  return property.replace(/[.-]/g, '_').toUpperCase();
}

export function resolvePlaceholders(text: string, values: PlaceholderValues): Resolved {
  const missing = new Set<string>();
  const out = text.replace(/#\{([^}:]*)(?::([^}]*))?\}/g, (whole, rawName: string, fallback: string | undefined) => {
    const name = rawName.trim();
    if (name === 'version') return values.resourceVersion;
    if (name === 'date') return values.resourceReleaseDate;
    if (name === 'organization') {
      if (values.organizationIdentifier !== undefined) return values.organizationIdentifier;
      missing.add('#{organization} (the local organization identifier is unknown)');
      return whole;
    }
    const value = name ? (values.env[environmentName(name)] ?? values.env[name] ?? fallback) : undefined;
    if (value === undefined) {
      missing.add(name ? `#{${name}} (environment variable ${environmentName(name)} not set)` : whole);
      return whole;
    }
    return value;
  });
  return { text: out, missing: [...missing] };
}
