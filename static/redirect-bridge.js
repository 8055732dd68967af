// Hands the sign-in response on this page (the URL fragment) to the app page that started the
// sign-in (pop-up / iframe: BroadcastChannel; redirect: sessionStorage, then back to the start
// page). Errors are shown as text, never as HTML.
window.msalRedirectBridge.broadcastResponseToMainFrame().catch(function (e) {
  var status = document.getElementById('bridge-status');
  status.textContent = 'Sign-in could not be completed: ' + ((e && (e.errorCode || e.message)) || String(e));
});
