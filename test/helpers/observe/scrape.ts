/** Scrapes a `/metrics` endpoint over HTTP and looks samples up in the parsed families. */
import parsePrometheusTextFormat, {
  type ParsedFamily,
  type ParsedSample,
} from 'parse-prometheus-text-format';
import { request } from 'undici';

export interface Scrape {
  status: number;
  contentType: string;
  text: string;
  families: Map<string, ParsedFamily>;
}

export async function scrape(url: string, headers: Record<string, string> = {}): Promise<Scrape> {
  const response = await request(url, { headers });
  const text = await response.body.text();
  const families = new Map<string, ParsedFamily>();
  if (response.statusCode === 200) {
    for (const family of parsePrometheusTextFormat(text)) families.set(family.name, family);
  }
  return {
    status: response.statusCode,
    contentType: String(response.headers['content-type'] ?? ''),
    text,
    families,
  };
}

function sameLabels(sample: ParsedSample, labels: Record<string, string>): boolean {
  const actual = sample.labels ?? {};
  const keys = Object.keys(labels);
  return keys.length === Object.keys(actual).length && keys.every((key) => actual[key] === labels[key]);
}

/** The sample of `name` whose labels are exactly `labels`, or undefined. */
export function findSample(
  result: Scrape,
  name: string,
  labels: Record<string, string> = {},
): ParsedSample | undefined {
  return result.families.get(name)?.metrics.find((sample) => sameLabels(sample, labels));
}

/** Numeric value of a counter or gauge sample; undefined when the series does not exist. */
export function sampleValue(
  result: Scrape,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const value = findSample(result, name, labels)?.value;
  return value === undefined ? undefined : Number(value);
}

/** Every label set of `name`. */
export function labelSets(result: Scrape, name: string): Record<string, string>[] {
  return (result.families.get(name)?.metrics ?? []).map((sample) => sample.labels ?? {});
}
