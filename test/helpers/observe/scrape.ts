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
    for (const family of parsePrometheusTextFormat(text)) {
      const parsed = family.type === 'HISTOGRAM' ? regroupHistogram(text, family) : family;
      families.set(family.name, parsed);
    }
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
  return (
    keys.length === Object.keys(actual).length && keys.every((key) => actual[key] === labels[key])
  );
}

/** Finds the sample of `name` whose labels are exactly `labels`. */
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

/** Lists every label set of `name`. */
export function labelSets(result: Scrape, name: string): Record<string, string>[] {
  return (result.families.get(name)?.metrics ?? []).map((sample) => sample.labels ?? {});
}

const SAMPLE_LINE = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL_PAIR = /(\w+)="((?:[^"\\]|\\.)*)"/g;

/**
 * parse-prometheus-text-format 1.1.1 merges all series of a labelled histogram into one sample
 * and drops their labels, so histogram families are rebuilt here from the sample lines: one
 * sample per label set, with `buckets` by `le`, `sum` and `count`.
 */
function regroupHistogram(text: string, family: ParsedFamily): ParsedFamily {
  const samples = new Map<string, ParsedSample>();
  for (const line of text.split('\n')) {
    const match = SAMPLE_LINE.exec(line);
    if (match === null || !match[1]?.startsWith(family.name)) continue;
    const suffix = match[1].slice(family.name.length);
    if (!['_bucket', '_sum', '_count'].includes(suffix)) continue;

    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(LABEL_PAIR)) {
      labels[pair[1] ?? ''] = JSON.parse(`"${pair[2] ?? ''}"`) as string;
    }
    const { le, ...series } = labels;
    const key = JSON.stringify(series);
    const sample = samples.get(key) ?? { labels: series, buckets: {} };
    samples.set(key, sample);
    if (suffix === '_bucket' && le !== undefined && sample.buckets)
      sample.buckets[le] = match[3] ?? '';
    if (suffix === '_sum') sample.sum = match[3];
    if (suffix === '_count') sample.count = match[3];
  }
  return { ...family, metrics: [...samples.values()] };
}
