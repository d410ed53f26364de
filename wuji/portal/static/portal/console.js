// The VNC console page (issue 5): connect noVNC to the console proxy with the page's single-use token.
// Everything comes from data attributes (no inline script): the WebSocket URL and the status words,
// already translated by the template.
import RFB from "../novnc/core/rfb.js";

const screen = document.getElementById("console-screen");
const status = document.getElementById("console-status");
const ctrlAltDel = document.getElementById("console-cad");

function show(state) {
  status.dataset.state = state;
  status.textContent = screen.dataset["status" + state[0].toUpperCase() + state.slice(1)];
  ctrlAltDel.disabled = state !== "connected";
}

show("connecting");
const rfb = new RFB(screen, screen.dataset.url);
rfb.scaleViewport = true;
rfb.focusOnClick = true;
rfb.addEventListener("connect", () => show("connected"));
rfb.addEventListener("disconnect", () => show("disconnected"));
ctrlAltDel.addEventListener("click", () => rfb.sendCtrlAltDel());
