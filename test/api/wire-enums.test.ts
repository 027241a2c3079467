/**
 * The wire enums against the registries they name: every annotation format the registry holds has a proto value,
 * and every proto value names a registered format (the proto cannot be derived; this keeps the one table honest).
 */
import { describe, expect, it } from 'vitest';
import { annotationFormatChoices } from '@glomseg/shared/annotation-formats/index.js';
import { AnnotationFormat as WireAnnotationFormat } from '../../api/gen/glomseg/v1/glomseg_pb.js';
import { ANNOTATION_FORMATS } from '../../api/src/wire-enums.js';

describe('ANNOTATION_FORMATS', () => {
  it('maps every registered annotation format, and auto, to a wire value and back', () => {
    for (const name of annotationFormatChoices()) {
      const wire = ANNOTATION_FORMATS.wire(name);
      expect(wire, `${name} has no wire value`).toBeTypeOf('number');
      expect(ANNOTATION_FORMATS.name(wire)).toBe(name);
    }
  });

  it('names a registered format for every value of the proto enum', () => {
    const wireValues = Object.values(WireAnnotationFormat).filter((v): v is number => typeof v === 'number');
    expect(wireValues.length).toBeGreaterThan(1);
    for (const wire of wireValues) expect(annotationFormatChoices()).toContain(ANNOTATION_FORMATS.name(wire));
    expect(wireValues).toHaveLength(annotationFormatChoices().length);
  });
});
