/** The HTML page at `/`: the full viewer, opened on the demo slide with its annotations when a demo is configured. */

function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}

export function viewerPageHtml(options: { bundleUrl: string; slideId?: string; annotationsUrl?: string }): string {
  const attributes = [
    options.slideId ? `slide="${escapeAttribute(options.slideId)}"` : '',
    options.annotationsUrl ? `annotations-url="${escapeAttribute(options.annotationsUrl)}"` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>glomseg viewer</title>
<style>
  html, body { margin: 0; height: 100%; font-family: system-ui, sans-serif; }
  glomseg-viewer { display: block; height: 100vh; }
</style>
<script type="module" src="${escapeAttribute(options.bundleUrl)}"></script>
</head>
<body>
<glomseg-viewer ${attributes}></glomseg-viewer>
</body>
</html>
`;
}
