/** esbuild's text loader: a CSS file imported as its text (OpenLayers' stylesheet inside a shadow root). */
declare module '*.css' {
  const text: string;
  export default text;
}
