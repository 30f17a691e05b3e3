/**
 * The sample seed: fixed users, credentials and datasets every part of the project relies on.
 * Row values are generated deterministically (same every start) by a seeded PRNG.
 */
import type { PointValue, StoredValue } from './types';

interface SampleColumn {
  readonly name: string;
  readonly fieldName: string;
  readonly dataTypeName: string;
  readonly description: string;
}

export interface SampleDataset {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly category: string;
  readonly tags: readonly string[];
  readonly owner: string;
  readonly isPublic: boolean;
  readonly rowIdentifier: string | undefined;
  readonly rowCount: number;
  readonly columns: readonly SampleColumn[];
}

const col = (fieldName: string, name: string, dataTypeName: string, description = ''): SampleColumn => ({ name, fieldName, dataTypeName, description });

export const SAMPLE = {
  /** Epoch seconds of the sample datasets' creation / last update (2026-01-01T00:00:00Z). */
  createdAt: 1767225600,
  users: {
    publisher: { id: 'pub1-usr1', email: 'publisher@example.org', password: 'publish-me', displayName: 'Pat Publisher', roleName: 'publisher' },
    viewer: { id: 'vwr1-usr1', email: 'viewer@example.org', password: 'view-only', displayName: 'Vic Viewer', roleName: 'viewer' },
    other: { id: 'oth1-usr1', email: 'other@example.org', password: 'other-pass', displayName: 'Olive Other', roleName: 'publisher' },
    department: { id: 'dpt1-usr1', email: 'department@example.org', password: 'dept-pass', displayName: 'Dana Department', roleName: 'publisher' },
  },
  /** Sharing: `libr-shrd` with the publisher as editor (contributor), `insp-shrd` with the viewer as viewer. */
  grants: [
    { dataset: 'libr-shrd', userId: 'pub1-usr1', type: 'contributor' },
    { dataset: 'insp-shrd', userId: 'vwr1-usr1', type: 'viewer' },
  ],
  /** How many public datasets of `department@example.org` the sample catalog holds (metadata only, no rows). */
  catalogSize: 250,
  /** API key of the publisher (HTTP Basic: key id as user name, secret as password). */
  apiKey: { keyId: 'demo_key_id', keySecret: 'demo_key_secret', userId: 'pub1-usr1' },
  appToken: 'demo-app-token',
  oauthClient: {
    clientId: 'demo-app-token',
    clientSecret: 'demo-app-secret',
    callbackPrefix: 'https://localhost/',
    /** `http://127.0.0.1:*` and `http://localhost:*` redirects are accepted too. */
    loopback: true,
  },
  datasets: {
    buildingPermits: {
      id: 'bldg-prmt',
      name: 'Building Permits',
      description: 'Building permits issued by the city, with valuation and location.',
      category: 'Permitting',
      tags: ['permits', 'buildings'],
      owner: 'pub1-usr1',
      isPublic: true,
      rowIdentifier: 'permit_id',
      rowCount: 500,
      columns: [
        col('permit_id', 'Permit ID', 'text', 'Unique permit number'),
        col('address', 'Address', 'text'),
        col('valuation', 'Valuation', 'number', 'Estimated cost of the work in USD'),
        col('issued_date', 'Issued Date', 'calendar_date'),
        col('is_residential', 'Is Residential', 'checkbox'),
        col('info_url', 'Info URL', 'url'),
        col('location', 'Location', 'point'),
      ],
    },
    treeCensus: {
      id: 'tree-cnsu',
      name: 'Street Tree Census',
      description: 'Street trees counted by the parks department.',
      category: 'Environment',
      tags: ['trees'],
      owner: 'pub1-usr1',
      isPublic: true,
      rowIdentifier: undefined,
      rowCount: 300,
      columns: [
        col('species', 'Species', 'text'),
        col('diameter_in', 'Diameter (in)', 'number'),
        col('planted_on', 'Planted On', 'calendar_date'),
        col('healthy', 'Healthy', 'checkbox'),
        col('location', 'Location', 'point'),
      ],
    },
    trafficCrashes: {
      id: 'crsh-larg',
      name: 'Traffic Crashes',
      description: 'Reported traffic crashes (a large dataset for paging).',
      category: 'Transportation',
      tags: ['crashes', 'traffic'],
      owner: 'pub1-usr1',
      isPublic: true,
      rowIdentifier: 'crash_id',
      rowCount: 60000,
      columns: [
        col('crash_id', 'Crash ID', 'number'),
        col('crash_date', 'Crash Date', 'calendar_date'),
        col('severity', 'Severity', 'text'),
        col('injuries', 'Injuries', 'number'),
        col('location', 'Location', 'point'),
      ],
    },
    budgetDrafts: {
      id: 'bdgt-priv',
      name: 'Budget Drafts',
      description: 'Draft budget lines (private).',
      category: 'Finance',
      tags: ['budget'],
      owner: 'pub1-usr1',
      isPublic: false,
      rowIdentifier: 'line_item',
      rowCount: 200,
      columns: [col('line_item', 'Line Item', 'text'), col('department', 'Department', 'text'), col('amount', 'Amount', 'number')],
    },
    parkFacilities: {
      id: 'park-othr',
      name: 'Park Facilities',
      description: 'Facilities in city parks.',
      category: 'Recreation',
      tags: ['parks'],
      owner: 'oth1-usr1',
      isPublic: true,
      rowIdentifier: 'facility_id',
      rowCount: 150,
      columns: [col('facility_id', 'Facility ID', 'text'), col('name', 'Name', 'text'), col('open', 'Open', 'checkbox')],
    },
    libraryBranches: {
      id: 'libr-shrd',
      name: 'Library Branches',
      description: 'Branches of the public library (private, shared with the publisher as editor).',
      category: 'Education',
      tags: ['libraries'],
      owner: 'oth1-usr1',
      isPublic: false,
      rowIdentifier: 'branch_id',
      rowCount: 30,
      columns: [col('branch_id', 'Branch ID', 'text'), col('branch', 'Branch', 'text'), col('visits', 'Visits', 'number')],
    },
    inspections: {
      id: 'insp-shrd',
      name: 'Restaurant Inspections',
      description: 'Health inspections of restaurants (private, shared with the viewer).',
      category: 'Health',
      tags: ['inspections'],
      owner: 'oth1-usr1',
      isPublic: false,
      rowIdentifier: 'inspection_id',
      rowCount: 40,
      columns: [col('inspection_id', 'Inspection ID', 'text'), col('restaurant', 'Restaurant', 'text'), col('score', 'Score', 'number')],
    },
  },
} as const satisfies {
  createdAt: number;
  users: Record<string, { id: string; email: string; password: string; displayName: string; roleName: 'publisher' | 'viewer' | 'administrator' }>;
  grants: readonly { dataset: string; userId: string; type: 'owner' | 'contributor' | 'viewer' }[];
  catalogSize: number;
  apiKey: { keyId: string; keySecret: string; userId: string };
  appToken: string;
  oauthClient: { clientId: string; clientSecret: string; callbackPrefix: string; loopback: boolean };
  datasets: Record<string, SampleDataset>;
};

/** mulberry32: small, fast, deterministic PRNG. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
const STREETS = ['Main St', 'Oak Ave', 'Lake Shore Dr', 'Elm St', 'Maple Rd', 'Cedar Ln', 'Park Blvd', 'River Rd', 'Hill St', '2nd Ave'];
const SPECIES = ['Red Maple', 'Pin Oak', 'Honeylocust', 'London Planetree', 'Linden', 'Ginkgo', 'Elm', 'Callery Pear'];
const SEVERITY = ['minor', 'moderate', 'severe', 'fatal'];
const DEPARTMENTS = ['Parks', 'Police', 'Fire', 'Library', 'Transit', 'Health'];
const FACILITIES = ['Playground', 'Picnic Shelter', 'Restroom', 'Tennis Court', 'Pool', 'Dog Park'];

function day(rand: () => number, fromYear: number, years: number, withTime: boolean): string {
  const base = Date.UTC(fromYear, 0, 1);
  const ms = base + Math.floor(rand() * years * 365) * 86400000 + (withTime ? Math.floor(rand() * 86400) * 1000 : 0);
  const d = new Date(ms);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}.000`;
}

function point(rand: () => number): PointValue {
  const lon = Math.round((-87.9 + rand() * 0.4) * 1e6) / 1e6;
  const lat = Math.round((41.7 + rand() * 0.3) * 1e6) / 1e6;
  return { type: 'Point', coordinates: [lon, lat] };
}

/** The stored values of a sample dataset's rows (null cells absent), deterministic for a dataset id. */
export function sampleRows(datasetId: string): Record<string, StoredValue>[] {
  const rand = prng(hashString(datasetId));
  const out: Record<string, StoredValue>[] = [];
  switch (datasetId) {
    case 'bldg-prmt':
      for (let i = 1; i <= 500; i++) {
        const id = `BP-2025-${pad(i, 5)}`;
        const r: Record<string, StoredValue> = {
          permit_id: id,
          address: `${100 + Math.floor(rand() * 9000)} ${STREETS[Math.floor(rand() * STREETS.length)] ?? 'Main St'}`,
          valuation: String((Math.floor(rand() * 200_000_000) + 100_000) / 100),
          issued_date: day(rand, 2024, 2, false),
          is_residential: rand() < 0.6,
          location: point(rand),
        };
        if (i % 25 !== 0) r.info_url = { url: `https://permits.example.org/permits/${id}`, description: `Permit ${id}` };
        if (i % 40 === 0) delete r.valuation;
        out.push(r);
      }
      break;
    case 'tree-cnsu':
      for (let i = 1; i <= 300; i++) {
        const r: Record<string, StoredValue> = {
          species: SPECIES[Math.floor(rand() * SPECIES.length)] ?? 'Elm',
          diameter_in: String((20 + Math.floor(rand() * 400)) / 10),
          planted_on: day(rand, 1990, 35, false),
          healthy: rand() < 0.85,
          location: point(rand),
        };
        if (i % 30 === 0) delete r.planted_on;
        out.push(r);
      }
      break;
    case 'crsh-larg':
      for (let i = 1; i <= 60000; i++) {
        out.push({
          crash_id: String(i),
          crash_date: day(rand, 2020, 6, true),
          severity: SEVERITY[Math.min(3, Math.floor(rand() * rand() * 4.5))] ?? 'minor',
          injuries: String(Math.floor(rand() * rand() * 6)),
          location: point(rand),
        });
      }
      break;
    case 'bdgt-priv':
      for (let i = 1; i <= 200; i++) {
        out.push({
          line_item: `LI-${pad(i, 4)}`,
          department: DEPARTMENTS[Math.floor(rand() * DEPARTMENTS.length)] ?? 'Parks',
          amount: String(Math.floor(rand() * 50_000_000) / 100),
        });
      }
      break;
    case 'park-othr':
      for (let i = 1; i <= 150; i++) {
        out.push({
          facility_id: `PF-${pad(i, 3)}`,
          name: `${FACILITIES[Math.floor(rand() * FACILITIES.length)] ?? 'Pool'} ${i}`,
          open: rand() < 0.8,
        });
      }
      break;
    case 'libr-shrd':
      for (let i = 1; i <= 30; i++) {
        out.push({
          branch_id: `LB-${pad(i, 2)}`,
          branch: `${STREETS[Math.floor(rand() * STREETS.length)] ?? 'Main St'} Branch`,
          visits: String(Math.floor(rand() * 5000)),
        });
      }
      break;
    case 'insp-shrd':
      for (let i = 1; i <= 40; i++) {
        out.push({
          inspection_id: `IN-${pad(i, 3)}`,
          restaurant: `${STREETS[Math.floor(rand() * STREETS.length)] ?? 'Main St'} Diner ${i}`,
          score: String(60 + Math.floor(rand() * 41)),
        });
      }
      break;
    default:
      break;
  }
  return out;
}

export interface CatalogSeedDataset {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  readonly category: string;
  readonly tags: readonly string[];
  readonly owner: string;
  /** Epoch seconds of creation and last update. */
  readonly updatedAt: number;
  readonly columns: readonly SampleColumn[];
}

const TOPICS = ['Library', 'Water', 'Transit', 'Housing', 'Energy', 'Parking', 'Recycling', 'Noise', 'Bridge', 'School'];
const SUBJECTS = [
  'Visits',
  'Complaints',
  'Inspections',
  'Budget',
  'Permits',
  'Counts',
  'Outages',
  'Requests',
  'Assets',
  'Contracts',
  'Surveys',
  'Events',
  'Staffing',
  'Usage',
  'Repairs',
  'Grants',
  'Fees',
  'Sensors',
  'Routes',
  'Audits',
  'Claims',
  'Licenses',
  'Meters',
  'Projects',
  'Readings',
];

/**
 * The sample catalog: `SAMPLE.catalogSize` public datasets of `department@example.org` (`pcat-0001` …), named
 * "<topic> <subject>" and updated on different days (so ordering by name and by update differ). Metadata only.
 */
export function sampleCatalog(): CatalogSeedDataset[] {
  const out: CatalogSeedDataset[] = [];
  for (let i = 1; i <= SAMPLE.catalogSize; i++) {
    const topic = TOPICS[(i - 1) % TOPICS.length] ?? 'City';
    const subject = SUBJECTS[Math.floor((i - 1) / TOPICS.length) % SUBJECTS.length] ?? 'Data';
    out.push({
      id: `pcat-${pad(i, 4)}`,
      name: `${topic} ${subject}`,
      description: `${subject} of the ${topic.toLowerCase()} department.`,
      category: topic,
      tags: [topic.toLowerCase(), subject.toLowerCase()],
      owner: SAMPLE.users.department.id,
      updatedAt: SAMPLE.createdAt - ((i * 7919) % 730) * 86400,
      columns: [col('record_id', 'Record ID', 'text'), col('value', 'Value', 'number')],
    });
  }
  return out;
}
