import { FrameProcessor, TextFrame, type Frame, type FrameDirection } from "@voxpipe/core";

/** A user's own processor: upper-cases text, forwards every other frame. */
export class Uppercase extends FrameProcessor {
  override process(frame: Frame, direction: FrameDirection): void {
    if (frame instanceof TextFrame)
      this.push(new TextFrame({ text: frame.text.toUpperCase() }), direction);
    else this.push(frame, direction);
  }
}
