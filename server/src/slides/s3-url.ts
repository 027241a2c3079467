/**
 * `s3://bucket/key` slide ids: turned into a presigned HTTPS GET URL (AWS Signature V4 in the query, valid for a
 * short time) with the credentials of the standard environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN, AWS_REGION) and endpoint (AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL, path-style, for MinIO and
 * other S3-compatible stores; else virtual-host style on amazonaws.com). The range reads then go to that URL.
 */
import { AwsClient } from 'aws4fetch';
import { GlomsegError } from '@glomseg/shared/errors.js';

/** How long a presigned URL is valid: longer than any one slide's reads, short enough to be useless when leaked. */
export const PRESIGN_SECONDS = 3600;

export async function presignS3Url(s3: URL, env: NodeJS.ProcessEnv = process.env): Promise<URL> {
  const bucket = s3.hostname;
  const key = s3.pathname.replace(/^\//, '');
  if (!bucket || !key) throw new GlomsegError('INVALID_ARGUMENT', `'${s3.href}' is not an s3://bucket/key URL`);
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (!accessKeyId || !secretAccessKey) {
    throw new GlomsegError(
      'FAILED_PRECONDITION',
      `cannot read ${s3.href}: the server has no S3 credentials (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY); give a presigned https:// URL instead`,
    );
  }
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1';
  const endpoint = env.AWS_ENDPOINT_URL_S3 ?? env.AWS_ENDPOINT_URL;
  const target = endpoint
    ? new URL(`${endpoint.replace(/\/$/, '')}/${bucket}/${key}`)
    : new URL(`https://${bucket}.s3.${region}.amazonaws.com/${key}`);
  target.searchParams.set('X-Amz-Expires', String(PRESIGN_SECONDS));
  const client = new AwsClient({
    accessKeyId,
    secretAccessKey,
    sessionToken: env.AWS_SESSION_TOKEN,
    region,
    service: 's3',
  });
  const signed = await client.sign(target.href, { method: 'GET', aws: { signQuery: true, allHeaders: false } });
  return new URL(signed.url);
}
