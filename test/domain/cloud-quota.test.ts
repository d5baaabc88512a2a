import { describe, expect, it } from 'vitest';
import { cloudQuotaLine, cloudQuotaReport } from '#domain/cloud-quota';

describe('cloudQuotaLine', () => {
  it('answers what is left after the plan, and that it fits while something is left', () => {
    expect(cloudQuotaLine({ limit: 20, used: 6, requested: 5 })).toEqual({ limit: 20, used: 6, requested: 5, headroom: 9, fits: true });
    expect(cloudQuotaLine({ limit: 20, used: 6, requested: 14 })).toEqual({ limit: 20, used: 6, requested: 14, headroom: 0, fits: true });
  });

  it('says a plan that goes past the limit by one does not fit', () => {
    expect(cloudQuotaLine({ limit: 20, used: 6, requested: 15 })).toEqual({ limit: 20, used: 6, requested: 15, headroom: -1, fits: false });
  });

  it('reads a limit of -1 as unlimited: no headroom figure, always fits', () => {
    expect(cloudQuotaLine({ limit: -1, used: 500, requested: 40 })).toEqual({ limit: -1, used: 500, requested: 40, headroom: null, fits: true });
  });

  it('lets a plan that asks for none of a resource fit even where usage is over a lowered limit', () => {
    expect(cloudQuotaLine({ limit: 2, used: 3, requested: 0 })).toMatchObject({ headroom: -1, fits: true });
    expect(cloudQuotaLine({ limit: 2, used: 3, requested: 1 })).toMatchObject({ headroom: -2, fits: false });
  });
});

describe('cloudQuotaReport', () => {
  it('names every resource the plan would exceed, in order, and fits only when there is none', () => {
    const report = cloudQuotaReport({
      instances: { limit: 10, used: 8, requested: 3 },
      cores: { limit: 20, used: 0, requested: 3 },
      ramMb: { limit: 4096, used: 2048, requested: 6144 },
    });

    expect(report.wouldExceed).toEqual(['instances', 'ramMb']);
    expect(report.fits).toBe(false);
    expect(report.resources.cores).toEqual({ limit: 20, used: 0, requested: 3, headroom: 17, fits: true });
  });

  it('fits a plan within every limit, and an empty report', () => {
    expect(cloudQuotaReport({ instances: { limit: 10, used: 0, requested: 10 } })).toMatchObject({ wouldExceed: [], fits: true });
    expect(cloudQuotaReport({})).toEqual({ resources: {}, wouldExceed: [], fits: true });
  });
});
