import { describe, expect, it } from 'vitest';
import {
  isOmeXml,
  parseAperioDescription,
  parseOmeXml,
  pixelSizeFromResolution,
} from '../../../server/src/slides/tiff-description.js';

describe('tiff-description', () => {
  it('parses Aperio key = value pairs', () => {
    const parsed = parseAperioDescription(
      'Aperio Image Library v10.0.51\r\n46920x33014 [0,100 46000x32914] (256x256) JPEG/RGB Q=30|AppMag = 20|MPP = 0.4990|Date = 12/29/09',
    );
    expect(parsed.metadata['aperio.AppMag']).toBe('20');
    expect(parsed.metadata['aperio.Date']).toBe('12/29/09');
    expect(parsed.pixelSize).toEqual({ mppX: 0.499, mppY: 0.499 });
    expect(parseAperioDescription('Aperio Image Library v11\nlabel 387x463').pixelSize).toBeUndefined();
  });

  it('converts OME PhysicalSize units to micrometres', () => {
    const xml =
      '<?xml version="1.0"?><OME><Image><Pixels SizeX="10" PhysicalSizeX="0.0005" PhysicalSizeXUnit="mm" PhysicalSizeY="500" PhysicalSizeYUnit="nm"/></Image></OME>';
    expect(isOmeXml(xml)).toBe(true);
    expect(parseOmeXml(xml).pixelSize).toEqual({ mppX: 0.5, mppY: 0.5 });
    expect(parseOmeXml('<OME><Pixels PhysicalSizeX="0.25" PhysicalSizeY="0.26"/></OME>').pixelSize).toEqual({
      mppX: 0.25,
      mppY: 0.26,
    });
    expect(parseOmeXml('<OME><Pixels PhysicalSizeX="3" PhysicalSizeXUnit="parsec"/></OME>').pixelSize).toBeUndefined();
    expect(isOmeXml('Aperio Image Library')).toBe(false);
  });

  it('reads TIFF resolution in pixels per cm or inch and ignores placeholder values', () => {
    expect(pixelSizeFromResolution([20000, 1], [20000, 1], 3)).toEqual({ mppX: 0.5, mppY: 0.5 });
    expect(pixelSizeFromResolution(50800, 50800, 2)?.mppX).toBeCloseTo(0.5, 9);
    expect(pixelSizeFromResolution([72, 1], [72, 1], 2)).toBeUndefined();
    expect(pixelSizeFromResolution([300, 1], [300, 1], 2)).toBeUndefined();
    expect(pixelSizeFromResolution([600, 1], [600, 1], 2)).toBeUndefined();
    expect(pixelSizeFromResolution([72, 1], [72, 1], 3)).toBeUndefined();
    expect(pixelSizeFromResolution([20000, 1], [20000, 1], 1)).toBeUndefined();
    expect(pixelSizeFromResolution(undefined, undefined, undefined)).toBeUndefined();
  });
});
