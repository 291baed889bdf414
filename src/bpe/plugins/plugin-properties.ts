// A plugin's properties (definition.properties): `some.property` read from the environment variable
// SOME_PROPERTY (as placeholders are), else its default. A required property without value refuses
// the plugin (the reference's Spring @Value without default fails the plugin's context).
import type { PluginProperties, PluginProperty } from '../../plugin-api/index.ts';
import { environmentName } from './placeholders.ts';

function valueOf(name: string, declared: PluginProperty | undefined, env: Record<string, string | undefined>): string | undefined {
  const v = env[environmentName(name)] ?? env[name];
  return v !== undefined && v !== '' ? v : declared?.default;
}

export function checkPluginProperties(properties: Readonly<Record<string, PluginProperty>> | undefined, env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  for (const [name, p] of Object.entries(properties ?? {})) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) problems.push(`definition: property name '${name}' is not of the form some.property`);
    else if (p?.required && valueOf(name, p, env) === undefined) problems.push(`definition: required property ${name} has no value (environment variable ${environmentName(name)})`);
  }
  return problems;
}

export function pluginProperties(properties: Readonly<Record<string, PluginProperty>> | undefined, env: Record<string, string | undefined>): PluginProperties {
  return Object.freeze({ get: (name: string) => valueOf(name, properties?.[name], env) });
}
