/** A slide's name: its file name without extension (both of `.ome.tif`), as ListSlides and the CLI's outputs use it. */
export function slideStem(fileName: string): string {
  return fileName.replace(/\.ome\.tiff?$/i, '').replace(/\.[^.]+$/, '');
}
