import { Resvg } from "@resvg/resvg-js";

/**
 * Rasterises an SVG chart to PNG (for READMEs and issues) with resvg — a Rust SVG renderer
 * shipped as a prebuilt binary inside its npm package (nothing downloads at install time),
 * so no browser is needed. Text uses the system's fonts (DejaVu Sans on Debian).
 * @param scale pixel density; 2 gives sharp images on high-DPI screens.
 */
export function svgToPng(svg: string, scale = 2): Uint8Array {
  const resvg = new Resvg(svg, {
    background: "white",
    fitTo: { mode: "zoom", value: scale },
    font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" },
  });
  return resvg.render().asPng();
}
