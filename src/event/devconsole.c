/* devconsole.c - plain-HTTP answers on the WebSocket port: health check and dev console. */
#include <stdio.h>
#include <string.h>

#include "event/devconsole.h"

/*
 * The page: no external resources, so it works offline and under the CSP
 * below. It connects to its own URL with ws: or wss:. With ?autotest=TEXT
 * it connects by itself, sends TEXT, and puts "echo:" and what came back
 * into the element #result and the title, and posts it to a parent frame
 * (headless browsers in tests read those).
 */
static const char devconsole_html[] =
"<!DOCTYPE html>\n"
"<html><head><meta charset=\"utf-8\"><title>wsserverd console</title>\n"
"<style>\n"
"body{font:14px monospace;margin:1em;background:#fafafa;color:#222}\n"
"#log{border:1px solid #ccc;background:#fff;height:60vh;overflow:auto;"
"padding:.5em;white-space:pre-wrap}\n"
".in{color:#060}.out{color:#036}.sys{color:#888}.err{color:#a00}\n"
"input[type=text]{width:60%}\n"
"</style></head><body>\n"
"<h3>wsserverd console: <span id=\"url\"></span></h3>\n"
"<p><button id=\"connect\">connect</button> "
"<button id=\"close\" disabled>close</button> "
"<span id=\"state\">not connected</span></p>\n"
"<div id=\"log\"></div>\n"
"<p><input type=\"text\" id=\"msg\" placeholder=\"message\" disabled> "
"<button id=\"send\" disabled>send</button></p>\n"
"<pre id=\"result\"></pre>\n"
"<script>\n"
"(function(){\n"
"'use strict';\n"
"var $=function(i){return document.getElementById(i);};\n"
"var q=new URLSearchParams(location.search);\n"
"var auto=q.get('autotest');\n"
"q.delete('autotest');\n"
"var qs=q.toString();\n"
"var url=(location.protocol==='https:'?'wss:':'ws:')+'//'+location.host+"
"location.pathname+(qs?'?'+qs:'');\n"
"var ws=null;\n"
"$('url').textContent=url;\n"
"function log(cls,t){var d=document.createElement('div');d.className=cls;"
"d.textContent=t;$('log').appendChild(d);$('log').scrollTop=1e9;}\n"
"function ui(open){$('connect').disabled=open;$('close').disabled=!open;"
"$('msg').disabled=!open;$('send').disabled=!open;}\n"
"function report(t){$('result').textContent=t;document.title=t;\n"
" if(window.parent!==window)window.parent.postMessage(t,'*');}\n"
"function connect(){\n"
" ws=new WebSocket(url);\n"
" ws.binaryType='arraybuffer';\n"
" $('state').textContent='connecting';\n"
" ws.onopen=function(){$('state').textContent='open';ui(true);"
"log('sys','open'+(ws.protocol?' ('+ws.protocol+')':''));"
"if(auto!==null){ws.send(auto);log('out','> '+auto);}};\n"
" ws.onmessage=function(e){var t=typeof e.data==='string'?e.data:"
"'[binary '+e.data.byteLength+' bytes]';log('in','< '+t);"
"if(auto!==null){report('echo:'+t);ws.close(1000);}};\n"
" ws.onerror=function(){log('err','error');};\n"
" ws.onclose=function(e){$('state').textContent='closed '+e.code;ui(false);"
"log('sys','closed: code '+e.code+(e.reason?' reason '+e.reason:''));"
"if(auto!==null&&!$('result').textContent)report('closed:'+e.code);};\n"
"}\n"
"function send(){var m=$('msg').value;if(!ws||ws.readyState!==1)return;"
"ws.send(m);log('out','> '+m);$('msg').value='';}\n"
"$('connect').onclick=connect;\n"
"$('close').onclick=function(){if(ws)ws.close(1000);};\n"
"$('send').onclick=send;\n"
"$('msg').onkeydown=function(e){if(e.key==='Enter')send();};\n"
"if(auto!==null)connect();\n"
"})();\n"
"</script></body></html>\n";

/* Whether the head is a GET of path; see devconsole.h. */
bool
devconsole_is_get(const char *buf, size_t len, const char *path)
{
	size_t	 n = strlen(path);

	if (n == 0 || len < 4 + n + 1 || memcmp(buf, "GET ", 4) != 0 ||
	    memcmp(buf + 4, path, n) != 0)
		return false;
	return buf[4 + n] == ' ' || buf[4 + n] == '?';
}

/* The health check response; see devconsole.h. */
size_t
devconsole_health(char *out, size_t outlen, bool up)
{
	const char	*body = up ? "ok\n" : "draining\n";
	int		 r;

	r = snprintf(out, outlen, "HTTP/1.1 %s\r\n"
	    "Content-Type: text/plain\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "Connection: close\r\n"
	    "\r\n%s", up ? "200 OK" : "503 Service Unavailable",
	    strlen(body), body);
	return r > 0 && (size_t)r < outlen ? (size_t)r : 0;
}

/* The dev console's response head; see devconsole.h. */
size_t
devconsole_head(char *out, size_t outlen)
{
	int	 r;

	r = snprintf(out, outlen, "HTTP/1.1 200 OK\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Length: %zu\r\n"
	    "Cache-Control: no-store\r\n"
	    "Content-Security-Policy: default-src 'none'; "
	    "script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
	    "connect-src ws: wss:\r\n"
	    "X-Content-Type-Options: nosniff\r\n"
	    "Connection: close\r\n"
	    "\r\n", sizeof(devconsole_html) - 1);
	return r > 0 && (size_t)r < outlen ? (size_t)r : 0;
}

/* The page, with its length. */
const char *
devconsole_page(size_t *len)
{
	*len = sizeof(devconsole_html) - 1;
	return devconsole_html;
}
