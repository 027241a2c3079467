/** The text the elements share on their dark panels: its colour, and the panels' font with it. */
import { css } from 'lit';

export const textColour = css`#e8eaed`;

/** Declarations to place inside a rule. */
export const panelText = css`
  font:
    13px/1.4 system-ui,
    sans-serif;
  color: ${textColour};
`;
