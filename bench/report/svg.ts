/**
 * A small SVG writer for the benchmark chart: one block per (connections, body size) scenario,
 * one row per case, with requests per second on the left and p99 latency on the right. Bar
 * lengths are relative to the largest value of the block, and each req/s label gives the share
 * of the baseline in the same block.
 */
import { SIZE_LABEL, findCell, type BenchRun } from './results.js';

const LABEL_WIDTH = 230;
const BAR_WIDTH = 280;
const VALUE_WIDTH = 150;
const ROW_HEIGHT = 20;
const BLOCK_GAP = 34;
const COLORS = ['#6b7280', '#2563eb', '#0891b2', '#7c3aed', '#dc2626', '#d97706'];

function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

function text(x: number, y: number, content: string, attributes = ''): string {
  return `<text x="${x}" y="${y}" ${attributes}>${escapeXml(content)}</text>`;
}

function bar(x: number, y: number, width: number, color: string): string {
  const safeWidth = Math.max(1, width).toFixed(1);
  return `<rect x="${x}" y="${y}" width="${safeWidth}" height="${ROW_HEIGHT - 6}" fill="${color}"/>`;
}

interface Row {
  caseId: string;
  label: string;
  color: string;
  requestsPerSec: number | null;
  p99Ms: number | null;
}

function blockRows(run: BenchRun, connections: number, size: 'small' | 'large'): Row[] {
  return run.cases.map((entry, index) => {
    const figures = findCell(run, entry.id, connections, size)?.figures ?? null;
    return {
      caseId: entry.id,
      label: entry.label,
      color: COLORS[index % COLORS.length] as string,
      requestsPerSec: figures?.requestsPerSec ?? null,
      p99Ms: figures?.p99Ms ?? null,
    };
  });
}

function drawBlock(rows: Row[], title: string, top: number): string[] {
  const baselineRate = rows.find((row) => row.caseId === 'baseline')?.requestsPerSec ?? null;
  const maxRate = Math.max(1, ...rows.map((row) => row.requestsPerSec ?? 0));
  const maxP99 = Math.max(0.001, ...rows.map((row) => row.p99Ms ?? 0));
  const rightX = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH;
  const parts = [text(10, top + 14, title, 'font-weight="bold"')];
  rows.forEach((row, index) => {
    const y = top + 22 + index * ROW_HEIGHT;
    parts.push(text(10, y + 11, row.label));
    if (row.requestsPerSec === null || row.p99Ms === null) {
      parts.push(text(LABEL_WIDTH, y + 11, 'not run', 'fill="#9ca3af"'));
      return;
    }
    const rateWidth = (row.requestsPerSec / maxRate) * BAR_WIDTH;
    parts.push(bar(LABEL_WIDTH, y, rateWidth, row.color));
    const share =
      row.caseId !== 'baseline' && baselineRate
        ? ` (${Math.round((row.requestsPerSec / baselineRate) * 100)}%)`
        : '';
    const rateText = `${Math.round(row.requestsPerSec)} req/s${share}`;
    parts.push(text(LABEL_WIDTH + rateWidth + 6, y + 11, rateText));
    const p99Width = (row.p99Ms / maxP99) * BAR_WIDTH;
    parts.push(bar(rightX, y, p99Width, row.color));
    parts.push(text(rightX + p99Width + 6, y + 11, `${row.p99Ms.toFixed(2)} ms`));
  });
  return parts;
}

/** Returns the chart of `run` as an SVG document. */
export function renderSvg(run: BenchRun): string {
  const width = LABEL_WIDTH + 2 * (BAR_WIDTH + VALUE_WIDTH);
  const blockHeight = 22 + run.cases.length * ROW_HEIGHT + BLOCK_GAP;
  const parts: string[] = [
    text(LABEL_WIDTH, 20, 'Requests per second (longer is better)', 'font-weight="bold"'),
    text(
      LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH,
      20,
      'p99 latency (shorter is better)',
      'font-weight="bold"',
    ),
  ];
  let top = 34;
  for (const connections of run.connections) {
    for (const size of run.sizes) {
      const title = `${connections} connection${connections === 1 ? '' : 's'}, ${SIZE_LABEL[size]} responses`;
      parts.push(...drawBlock(blockRows(run, connections, size), title, top));
      top += blockHeight;
    }
  }
  const date = run.startedAt.toISOString().slice(0, 10);
  parts.push(
    text(
      10,
      top + 4,
      `${date}, ${run.machine.cpuModel}, ${run.machine.cores} cores, Node ${run.machine.nodeVersion}`,
      'fill="#6b7280"',
    ),
  );
  const height = top + 20;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
