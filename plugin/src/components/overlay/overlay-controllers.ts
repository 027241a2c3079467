/**
 * The overlay's reactive controllers and how they feed each other: a new prediction session places the annotations
 * and restarts the Dice; each tile, cut and finished view goes to the Dice; loaded annotations become its truth; the
 * predictions' and annotations' failures go to the one error shown.
 */
import type { ReactiveControllerHost } from 'lit';
import type OlMap from 'ol/Map.js';
import { SlideFrame, type PixelOrigin } from '../../slide-frame.js';
import { PredictionController } from '../../controllers/prediction-controller.js';
import { AnnotationController } from '../../controllers/annotation-controller.js';
import { DiceController } from '../../controllers/dice-controller.js';
import { ErrorController } from '../../controllers/error-controller.js';

export interface OverlayControllers {
  errors: ErrorController;
  predictions: PredictionController;
  annotations: AnnotationController;
  dice: DiceController;
  /** Draws on this map (predictions, annotations) and watches its slide tiles for errors; none: on none. */
  attach(map: OlMap | undefined): void;
}

/** Adds the controllers to the host in the order they hear its lifecycle: errors, predictions, annotations, Dice. */
export function overlayControllers(
  host: ReactiveControllerHost & HTMLElement,
  settings: { serverUrl(): string; pixelOrigin(): PixelOrigin },
): OverlayControllers {
  const errors = new ErrorController(host, settings.serverUrl);
  const predictions: PredictionController = new PredictionController(host, {
    onSession: (session) => {
      if (session) annotations.place(session.frame);
      dice.restart({ keepFigures: false });
    },
    onCut: () => dice.restart({ keepFigures: true }),
    onTile: (result, _session, change) => dice.tileArrived(result.tile, change),
    onViewComplete: () => dice.viewComplete(),
    onStreaming: () => errors.clear('predictions'),
    onError: (error) => errors.show(error, 'predictions'),
  });
  const annotations: AnnotationController = new AnnotationController(host, {
    placement: () => {
      const session = predictions.layer.session;
      return {
        frame: session?.frame ?? new SlideFrame(0, 0, settings.pixelOrigin()),
        width: session?.slide.width,
        height: session?.slide.height,
      };
    },
    onLoaded: (loaded) => {
      errors.clear('annotations');
      dice.setTruth(loaded?.polygons);
    },
    onError: (error) => errors.show(error, 'annotations'),
  });
  const dice = new DiceController(host, predictions.layer, annotations.layer);
  const attach = (map: OlMap | undefined) => {
    if (map) {
      annotations.layer.attach(map);
      predictions.layer.attach(map);
      errors.watchTiles(map);
    } else {
      errors.watchTiles(undefined);
      predictions.layer.detach();
      annotations.layer.detach();
    }
  };
  return { errors, predictions, annotations, dice, attach };
}
