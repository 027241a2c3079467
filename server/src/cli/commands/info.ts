/** `glomseg info`: what the server knows of a slide, and the model grid on it. */
import path from 'node:path';
import { modelFromProto, slideInfoFromProto } from '@glomseg/api/client/from-proto.js';
import { expandSlideArguments } from '../score-command.js';
import { isSlideUrl } from '../slide-names.js';
import { DEFAULT_MODEL_FOLDER } from '../paths.js';
import { withServer } from '../with-server.js';
import type { CliCommand } from './command.js';

export const infoCommand: CliCommand = (program) => {
  program
    .command('info')
    .description('what the server knows of a slide: size, pyramid, pixel size, format, and the model grid on it')
    .argument('<slide>', 'slide file (or slide id with --server)')
    .option('--server <host:port>', 'glomseg gRPC server to use (default: start one in this process)')
    .option('--token-file <file>', 'bearer token for --server (first line of the file)')
    .option('--tls-ca <file>', 'PEM CA to trust: talk TLS to --server')
    .option('-m, --models <dir>', 'model folder (in-process server)', DEFAULT_MODEL_FOLDER)
    .action(async (slide: string, opts) => {
      const [resolved] = await expandSlideArguments([slide]);
      const slideFiles = path.isAbsolute(resolved) ? [resolved] : [];
      const slideUrls = isSlideUrl(resolved) ? [resolved] : [];
      await withServer(
        {
          server: opts.server,
          models: opts.models,
          device: 'cpu',
          slideFiles,
          slideUrls,
          tokenFile: opts.tokenFile,
          tlsCa: opts.tlsCa,
        },
        async (client) => {
          const listed = slideUrls.length > 0 ? [] : (await client.api.listSlides({})).slides.map((s) => s.id);
          const base = path.basename(resolved);
          const slideId =
            slideUrls[0] ?? listed.find((id) => id === resolved || id === base || id.endsWith(`/${base}`));
          if (!slideId) throw new Error(`the server has no slide '${base}'`);
          const info = slideInfoFromProto(await client.api.getSlideInfo({ slideId }));
          const models = (await client.api.listModels({ slideId })).models.map(modelFromProto);
          const described = models.map(({ card, device, grid }) => ({
            id: card.id,
            name: card.name,
            device,
            mpp: card.mpp,
            threshold: card.threshold,
            stain: card.stain?.method,
            grid,
          }));
          process.stdout.write(`${JSON.stringify({ ...info, models: described }, null, 2)}\n`);
        },
      );
    });
};
