// The web server rebuilds the plugin bundle when a file in pluginSourceFolders is newer than it: every file the
// build actually reads must lie in one of them, or an edit there leaves a stale bundle served.
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ES module without types
import { pluginInputs, pluginSourceFolders } from '../../scripts/build-plugin.mjs';

describe('build-plugin', () => {
  it('watches every repository folder the bundle is built from', async () => {
    const inputs = (await pluginInputs()) as string[];
    const folders = pluginSourceFolders as string[];
    // The bundle reads the plugin, the pure shared code and the API package (generated code included).
    for (const folder of ['plugin/src', 'shared/src', 'api/gen']) {
      expect(inputs.some((input) => input.startsWith(`${path.resolve(folder)}${path.sep}`)), folder).toBe(true);
    }
    const unwatched = inputs.filter((input) => !folders.some((folder) => input.startsWith(`${folder}${path.sep}`)));
    expect(unwatched).toEqual([]);
  });
});
