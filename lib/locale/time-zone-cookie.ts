/** The cookie in which the browser tells the server its time zone, so server-rendered times are in it. */
export const TIME_ZONE_COOKIE = "sc-tz";
