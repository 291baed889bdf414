// Data logger settings with the reference's names (dsf-bpe-server-jetty BpeLog4jInitializer and
// dsf-common-jetty Log4jInitializer): DEV_DSF_LOG_DATA_{FILE,CONSOLE_OUT,CONSOLE_ERR}_ENABLED
// (default false) and ..._STYLE (default TEXT). The file is log/bpe-data.log under the working
// directory, as in the reference.
export type DataLogStyle = 'TEXT' | 'TEXT_MDC' | 'JSON_ECS';

export interface DataLoggerConfig {
  file: DataLogStyle | undefined;
  consoleOut: DataLogStyle | undefined;
  consoleErr: DataLogStyle | undefined;
  /** Folder of bpe-data.log; default `log`. */
  directory: string;
}

const STYLES: readonly string[] = ['TEXT', 'TEXT_MDC', 'JSON_ECS'];
const REFERENCE_ONLY_STYLES = ['JSON_GCP', 'JSON_GELF', 'JSON_LOGSTASH'];

function readBoolean(env: Record<string, string | undefined>, name: string, problems: string[]): boolean {
  const value = env[name];
  if (value === undefined || value === '') return false;
  // Java's Boolean.valueOf: "true" in any case is true, everything else false; we reject typos instead.
  if (/^true$/i.test(value)) return true;
  if (/^false$/i.test(value)) return false;
  problems.push(`${name}: expected true or false, got "${value}"`);
  return false;
}

function readStyle(env: Record<string, string | undefined>, name: string, problems: string[]): DataLogStyle {
  const value = (env[name] ?? 'TEXT').toUpperCase();
  if (STYLES.includes(value)) return value as DataLogStyle;
  problems.push(
    REFERENCE_ONLY_STYLES.includes(value)
      ? `${name}: ${value} is not supported here (supported: ${STYLES.join(', ')})`
      : `${name}: "${env[name]}" not supported (supported: ${STYLES.join(', ')})`,
  );
  return 'TEXT';
}

/** Settings from the environment; every problem is listed in one error. */
export function dataLoggerConfigFromEnv(env: Record<string, string | undefined> = process.env, directory = 'log'): DataLoggerConfig {
  const problems: string[] = [];
  const part = (name: string): DataLogStyle | undefined => {
    const enabled = readBoolean(env, `DEV_DSF_LOG_DATA_${name}_ENABLED`, problems);
    const style = readStyle(env, `DEV_DSF_LOG_DATA_${name}_STYLE`, problems);
    return enabled ? style : undefined;
  };
  const config = { file: part('FILE'), consoleOut: part('CONSOLE_OUT'), consoleErr: part('CONSOLE_ERR'), directory };
  if (problems.length) throw new Error(`data logger configuration:\n  ${problems.join('\n  ')}`);
  return config;
}
