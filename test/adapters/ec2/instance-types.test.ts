import { describe, expect, it } from 'vitest';
import { InvalidSpec } from '#domain/errors';
import { EC2_INSTANCE_TYPES } from '#adapters/ec2/index';
import { setup } from './support.ts';

describe('Ec2Provider flavors', () => {
  it.each([
    [{ vcpus: 1, ramMb: 512, diskGb: 10 }, 'c7g.medium'],
    [{ vcpus: 2, ramMb: 4096, diskGb: 40 }, 'c7g.large'],
    [{ vcpus: 2, ramMb: 5000, diskGb: 40 }, 'm7g.large'],
    [{ vcpus: 4, ramMb: 4096, diskGb: 40 }, 'c7g.xlarge'],
    [{ vcpus: 4, ramMb: 32768, diskGb: 40 }, 'r7g.xlarge'],
    [{ vcpus: 3, ramMb: 20000, diskGb: 40 }, 'r7g.xlarge'],
    [{ vcpus: 64, ramMb: 262144, diskGb: 40 }, 'm7g.16xlarge'],
  ])('resolves %o to the smallest type that fits, %s', (size, expected) => {
    // Prepare
    const { provider } = setup();

    // Act
    const flavor = provider.resolveFlavor(size);

    // Assess
    expect(flavor).toBe(expected);
  });

  it.each([
    [{ vcpus: 65, ramMb: 4096, diskGb: 40 }, 'vcpus'],
    [{ vcpus: 2, ramMb: 600_000, diskGb: 40 }, 'ramMb'],
    [{ vcpus: 2, ramMb: 4096, diskGb: 20_000 }, 'diskGb'],
  ])('refuses %o with InvalidSpec naming %s', (size, field) => {
    // Prepare
    const { provider } = setup();

    // Act
    let caught: unknown;
    try {
      provider.resolveFlavor(size);
    } catch (error) {
      caught = error;
    }

    // Assess
    expect(caught).toBeInstanceOf(InvalidSpec);
    expect((caught as InvalidSpec).details.map((detail) => detail.path)).toEqual([field]);
  });

  it('lists only arm64 Graviton types, each bigger than the one before', () => {
    // Assess
    expect(EC2_INSTANCE_TYPES.every((type) => /^(c7g|m7g|r7g)\./.test(type.name))).toBe(true);
    EC2_INSTANCE_TYPES.slice(1).forEach((type, i) => {
      const before = EC2_INSTANCE_TYPES[i]!;
      expect(type.vcpus > before.vcpus || (type.vcpus === before.vcpus && type.ramMib > before.ramMib)).toBe(true);
    });
  });

  it('describes a known type with the table size and the default root volume, and an unknown one as null', () => {
    // Prepare
    const { provider } = setup({ defaultDiskGb: 30 });

    // Act
    const known = provider.describeFlavor('r7g.2xlarge');
    const unknown = provider.describeFlavor('t3.micro');

    // Assess
    expect(known).toEqual({ vcpus: 8, ramMb: 65536, diskGb: 30 });
    expect(unknown).toBeNull();
  });
});
