# ---------------------------------------------------------------- sessions (WTS API)

# WTS* through P/Invoke: quser/qwinsta output is localized and column-aligned, so parsing it breaks.
$WtsSource = @'
using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace Vipctl
{
    public class WtsSession
    {
        public int Id;
        public string Station;
        public string User;
        public string State;
        public string VirtualIp;
    }

    public static class Wts
    {
        [StructLayout(LayoutKind.Sequential, CharSet = CharSet.Unicode)]
        struct WTS_SESSION_INFO
        {
            public int SessionId;
            public string WinStationName;
            public int State;
        }

        [StructLayout(LayoutKind.Sequential)]
        struct WTS_SESSION_ADDRESS
        {
            public int AddressFamily;
            [MarshalAs(UnmanagedType.ByValArray, SizeConst = 20)]
            public byte[] Address;
        }

        const int WTSUserName = 5;
        const int WTSSessionAddressV4 = 28;
        const int AF_INET = 2;
        static readonly string[] States = { "Active", "Connected", "ConnectQuery", "Shadow", "Disconnected", "Idle", "Listen", "Reset", "Down", "Init" };

        [DllImport("wtsapi32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
        static extern bool WTSEnumerateSessionsW(IntPtr server, int reserved, int version, out IntPtr info, out int count);

        [DllImport("wtsapi32.dll", CharSet = CharSet.Unicode, SetLastError = true)]
        static extern bool WTSQuerySessionInformationW(IntPtr server, int sessionId, int infoClass, out IntPtr buffer, out int bytes);

        [DllImport("wtsapi32.dll")]
        static extern void WTSFreeMemory(IntPtr memory);

        public static WtsSession[] List()
        {
            IntPtr info;
            int count;
            if (!WTSEnumerateSessionsW(IntPtr.Zero, 0, 1, out info, out count))
            {
                throw new System.ComponentModel.Win32Exception(Marshal.GetLastWin32Error());
            }
            var sessions = new List<WtsSession>();
            try
            {
                int size = Marshal.SizeOf(typeof(WTS_SESSION_INFO));
                for (int i = 0; i < count; i++)
                {
                    var raw = (WTS_SESSION_INFO)Marshal.PtrToStructure(new IntPtr(info.ToInt64() + i * size), typeof(WTS_SESSION_INFO));
                    var session = new WtsSession();
                    session.Id = raw.SessionId;
                    session.Station = raw.WinStationName;
                    session.State = raw.State >= 0 && raw.State < States.Length ? States[raw.State] : raw.State.ToString();
                    session.User = QueryString(raw.SessionId, WTSUserName);
                    session.VirtualIp = QueryVirtualIp(raw.SessionId);
                    sessions.Add(session);
                }
            }
            finally
            {
                WTSFreeMemory(info);
            }
            return sessions.ToArray();
        }

        static string QueryString(int sessionId, int infoClass)
        {
            IntPtr buffer;
            int bytes;
            if (!WTSQuerySessionInformationW(IntPtr.Zero, sessionId, infoClass, out buffer, out bytes))
            {
                return null;
            }
            try
            {
                string text = Marshal.PtrToStringUni(buffer);
                return string.IsNullOrEmpty(text) ? null : text;
            }
            finally
            {
                WTSFreeMemory(buffer);
            }
        }

        static string QueryVirtualIp(int sessionId)
        {
            IntPtr buffer;
            int bytes;
            // Fails or returns family 0 when the session has no virtual IP.
            if (!WTSQuerySessionInformationW(IntPtr.Zero, sessionId, WTSSessionAddressV4, out buffer, out bytes))
            {
                return null;
            }
            try
            {
                var address = (WTS_SESSION_ADDRESS)Marshal.PtrToStructure(buffer, typeof(WTS_SESSION_ADDRESS));
                if (address.AddressFamily != AF_INET)
                {
                    return null;
                }
                // Same layout as WTS_CLIENT_ADDRESS: the IPv4 bytes start at offset 2.
                var b = address.Address;
                if (b[2] == 0 && b[3] == 0 && b[4] == 0 && b[5] == 0)
                {
                    return null;
                }
                return string.Format("{0}.{1}.{2}.{3}", b[2], b[3], b[4], b[5]);
            }
            finally
            {
                WTSFreeMemory(buffer);
            }
        }
    }
}
'@

function Invoke-Sessions($Op) {
    if (-not ('Vipctl.Wts' -as [type])) {
        Add-Type -TypeDefinition $WtsSource
    }
    $sessions = New-Object System.Collections.Generic.List[object]
    foreach ($session in [Vipctl.Wts]::List()) {
        if ($session.Id -ge 65536) {
            # Listener WinStations (RDP-Tcp, and ICA on a VDA) are enumerated with ids from 65536;
            # they are no one's session (docs/windows-facts.md#wts-lists-listeners-from-id-65536).
            continue
        }
        $sessions.Add([ordered]@{
                id         = [int]$session.Id
                user       = $session.User
                state      = [string]$session.State
                station    = $session.Station
                virtual_ip = $session.VirtualIp
                # No documented API tells an mstsc /admin session from a user session (neither
                # WTS_INFO_CLASS, WTSINFOEX nor WTSCLIENT carries it), so this executor cannot
                # report it; the protocol doc marks the field UNCONFIRMED on real hosts.
                admin      = $false
            })
    }
    return @{ changed = $false; data = [ordered]@{ sessions = $sessions.ToArray() } }
}
