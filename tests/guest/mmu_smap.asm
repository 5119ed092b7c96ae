; umbra-args: -bios {bin} -no-reboot -cpu max
; Protection features of CR4 (SDM vol. 3A, 2.5 and 4.6): UMIP makes SGDT,
; SIDT, SLDT, STR and SMSW raise #GP(0) at CPL 3; STAC/CLAC set and clear
; EFLAGS.AC and raise #UD at CPL 3.  With paging, SMEP makes a
; supervisor fetch from a user page fault (error code P | I/D); SMAP makes
; supervisor reads and writes of user pages fault unless EFLAGS.AC is set,
; for explicit accesses only (an LDT in a user page still faults), and a
; later access without AC faults again whatever was cached.
%include "lib.inc"
%include "pm_lib.inc"
%include "mmu_lib.inc"

PD     equ 0x300000
SUP_PT equ 0x301000         ; 0-4 MiB identity, supervisor
PT1    equ 0x302000         ; 4-8 MiB
F1     equ 0x381000
F2     equ 0x382000
X1     equ 0x401000         ; user data page (F1)
X2     equ 0x402000         ; user page holding `ret` (F2)
LDT_OFF equ 0x100           ; an LDT inside X1
URW    equ PTE_P | PTE_RW | PTE_US
CR4_UMIP equ 1 << 11
CR4_SMEP equ 1 << 20
CR4_SMAP equ 1 << 21
EFL_AC equ 1 << 18

main:
    PRINT "mmu_smap", 10
    call mmu_init
    mov eax, 7
    xor ecx, ecx
    cpuid
    and ebx, (1 << 7) | (1 << 20)
    CHECK_EQ "cpuid smep smap", ebx, (1 << 7) | (1 << 20)
    and ecx, 1 << 2
    CHECK_EQ "cpuid umip", ecx, 1 << 2

    ; ---- UMIP (paging off) ----
    mov eax, umip_user_clear
    call ring3_call
    mov eax, cr4
    or eax, CR4_UMIP
    mov cr4, eax
    TRY .u0_r
    sgdt [scratch]                  ; CPL 0: allowed
    smsw eax
.u0_r:
    CHECK_EQ "umip cpl0", [got_vec], 0xff
    mov eax, umip_user_set
    call ring3_call
    mov eax, cr4
    and eax, ~CR4_UMIP
    mov cr4, eax

    ; ---- STAC / CLAC at CPL 0 ----
    stac
    pushfd
    pop eax
    and eax, EFL_AC
    CHECK_EQ "stac", eax, EFL_AC
    clac
    pushfd
    pop eax
    and eax, EFL_AC
    CHECK_EQ "clac", eax, 0

    ; ---- paging: kernel pages supervisor, X1/X2 user ----
    mov byte [F2], 0xc3              ; ret
    mov dword [F1], 0x11111111
    mov edi, PD
    call zero_page
    mov dword [PD], SUP_PT | URW
    mov dword [PD + 4], PT1 | URW
    mov edi, SUP_PT
    mov eax, PTE_P | PTE_RW
    mov ecx, 1024
    call fill_pt
    mov edi, PT1
    call zero_page
    mov dword [PT1 + 1 * 4], F1 | URW
    mov dword [PT1 + 2 * 4], F2 | URW
    ; an LDT with one flat data descriptor (accessed) at X1 + LDT_OFF
    mov dword [F1 + LDT_OFF], 0x0000ffff
    mov dword [F1 + LDT_OFF + 4], 0x00cf9300
    mov edi, GDT_BASE + 0x48
    mov eax, X1 + LDT_OFF
    mov ebx, 7
    mov ecx, 0x00008200
    call make_desc
    mov ax, 0x48
    lldt ax
    mov eax, PD
    call paging_on

    ; ---- without SMEP/SMAP the kernel reaches user pages ----
    TRY .n_r
    call X2
    mov eax, [X1]
.n_r:
    CHECK_EQ "no smep/smap", [got_vec], 0xff

    ; ---- SMEP ----
    mov eax, cr4
    or eax, CR4_SMEP
    mov cr4, eax
    TRY .s1_r
    jmp X2
.s1_r:
    CHECK_EXC "smep fetch", 14, 0x11, X2
    CHECK_EQ "cr2", [got_cr2], X2
    TRY .s2_r
    mov eax, [X1]                   ; data: SMEP does not care
.s2_r:
    CHECK_EQ "smep read", [got_vec], 0xff
    mov eax, cr4
    and eax, ~CR4_SMEP
    mov cr4, eax
    TRY .s3_r
    call X2                         ; and off again
.s3_r:
    CHECK_EQ "smep off", [got_vec], 0xff

    ; ---- SMAP ----
    mov eax, cr4
    or eax, CR4_SMAP
    mov cr4, eax
    TRY .m1_r
.m1_f:
    mov eax, [X1]
.m1_r:
    CHECK_EXC "smap read", 14, 1, .m1_f
    CHECK_EQ "cr2", [got_cr2], X1
    TRY .m2_r
.m2_f:
    mov dword [X1 + 4], 0x22222222
.m2_r:
    CHECK_EXC "smap write", 14, 3, .m2_f
    CHECK_EQ "not written", [F1 + 4], 0
    TRY .m3_r
    call X2                         ; fetches are SMEP's business
.m3_r:
    CHECK_EQ "smap fetch", [got_vec], 0xff
    stac
    TRY .m4_r
    mov eax, [X1]
    mov dword [X1 + 4], 0x33333333
    mov eax, [X1 + 4]
.m4_r:
    CHECK_EQ "smap ac", [got_vec], 0xff
    CHECK_EQ "ac read", eax, 0x33333333
    clac
    TRY .m5_r
.m5_f:
    mov eax, [X1 + 4]               ; allowed a moment ago: not any more
.m5_r:
    CHECK_EXC "smap after clac", 14, 1, .m5_f
    stac
    TRY .m6_r
    mov bx, 0x04                    ; LDT selector 0: an implicit read of X1
.m6_f:
    mov ds, bx
.m6_r:
    CHECK_EXC "smap implicit", 14, 1, .m6_f
    CHECK_EQ "cr2", [got_cr2], X1 + LDT_OFF
    clac
    mov eax, cr4
    and eax, ~CR4_SMAP
    mov cr4, eax
    TRY .m7_r
    mov bx, 0x04
    mov ds, bx
    mov bx, 0x10
    mov ds, bx
    mov eax, [X1 + 4]
.m7_r:
    CHECK_EQ "smap off", [got_vec], 0xff
    call paging_off
    jmp finish

; ring 3, UMIP clear: all five instructions run.
umip_user_clear:
    TRY .r
    sgdt [scratch]
    sidt [scratch]
    sldt eax
    str eax
    smsw eax
.r:
    CHECK_EQ "umip off cpl3", [got_vec], 0xff
    int R3_VEC

; ring 3, UMIP set: each raises #GP(0); STAC/CLAC are #UD.
umip_user_set:
    TRY .r1
.f1:
    sgdt [scratch]
.r1:
    CHECK_EXC "umip sgdt", 13, 0, .f1
    TRY .r2
.f2:
    sidt [scratch]
.r2:
    CHECK_EXC "umip sidt", 13, 0, .f2
    TRY .r3
.f3:
    sldt eax
.r3:
    CHECK_EXC "umip sldt", 13, 0, .f3
    TRY .r4
.f4:
    str eax
.r4:
    CHECK_EXC "umip str", 13, 0, .f4
    TRY .r5
.f5:
    smsw eax
.r5:
    CHECK_EXC "umip smsw", 13, 0, .f5
    TRY .r6
.f6:
    stac
.r6:
    CHECK_EXC "stac cpl3", 6, NOERR, .f6
    TRY .r7
.f7:
    clac
.r7:
    CHECK_EXC "clac cpl3", 6, NOERR, .f7
    int R3_VEC

    ROM_END
