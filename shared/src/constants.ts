/**
 * Numbers the server, the CLI and the plugin must agree on, each defined once here (a constant defined twice
 * drifts). Server-only bounds live in server/src/validation/limits.ts.
 */

/** The mean-per-tile Dice square in level-0 pixels, as the HuBMAP Kaggle competition scored: 1600 x 1200. */
export const DICE_TILE = { tileWidth: 1600, tileHeight: 1200 } as const;

/** Viewer image tiles of levels stored in strips or synthesised come on this square grid (served and asked for). */
export const VIEWER_TILE_SIZE = 512;
