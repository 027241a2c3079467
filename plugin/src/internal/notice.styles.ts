/** The notice boxes the elements share (an error, a warning), as declarations to place inside a rule. */
import { css } from 'lit';

const box = css`
  padding: 6px 8px;
  border-radius: 4px;
`;

export const errorNotice = css`
  background: #5c1a1a;
  border: 1px solid #ff5252;
  color: #ffdad6;
  ${box}
`;

export const warningNotice = css`
  background: #4a3b00;
  border: 1px solid #ffc107;
  color: #fff3cd;
  ${box}
`;
