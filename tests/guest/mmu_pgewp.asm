; umbra-args: -bios {bin} -no-reboot
; Turning CR4.PGE or CR0.WP off and on again with paging on (SDM vol. 3A,
; 4.10.4.1: either change invalidates every TLB entry, global ones
; included; 4.10.2.4: without CR4.PGE the G bit means nothing; 4.6: CR0.WP
; decides whether a supervisor write to a read-only page faults).
;
; Checked: a PTE edited without INVLPG (of a global or an ordinary page)
; is seen after a PGE or a WP toggle; a global translation is dropped by
; a PGE toggle in another space and does not outlive a MOV to CR3 while
; PGE is clear; supervisor writes to read-only pages (user or supervisor)
; follow WP across toggles, the write allowed with WP = 0 included.  Where
; the SDM lets a global translation survive a MOV to CR3 the check takes
; either answer.
%include "lib.inc"
%include "pm_lib.inc"
%include "mmu_lib.inc"

PD_A equ 0x300000
PD_B equ 0x301000
PT_A equ 0x302000
PT_B equ 0x303000
F1   equ 0x381000
F2   equ 0x382000
F3   equ 0x383000
F4   equ 0x384000
F5   equ 0x385000
F6   equ 0x386000
F7   equ 0x387000
G    equ 0x400000           ; global page
N    equ 0x401000           ; ordinary page
RS   equ 0x402000           ; read-only, supervisor
RU   equ 0x403000           ; read-only, user
URW  equ PTE_P | PTE_RW | PTE_US

; PGE_PAIR: CR4.PGE off, then on (as Linux's global TLB flush does).
%macro PGE_PAIR 0
    mov eax, cr4
    and eax, ~CR4_PGE
    mov cr4, eax
    or eax, CR4_PGE
    mov cr4, eax
%endmacro

; WP_PAIR: CR0.WP off, then on.
%macro WP_PAIR 0
    mov eax, cr0
    and eax, ~CR0_WP
    mov cr0, eax
    or eax, CR0_WP
    mov cr0, eax
%endmacro

main:
    PRINT "mmu_pgewp", 10
    call mmu_init
    mov dword [F1], 0x11
    mov dword [F2], 0x22
    mov dword [F3], 0x33
    mov dword [F4], 0x44
    mov dword [F5], 0x55
    mov dword [F6], 0x66
    mov dword [F7], 0x77
    mov edi, PD_A
    call new_pd
    mov edi, PD_B
    call new_pd
    mov edi, PT_A
    call zero_page
    mov edi, PT_B
    call zero_page
    mov dword [PD_A + 4], PT_A | URW
    mov dword [PD_B + 4], PT_B | URW
    mov dword [PT_A], F1 | PTE_G | URW
    mov dword [PT_A + 4], F3 | URW
    mov dword [PT_A + 8], F5 | PTE_P
    mov dword [PT_A + 12], F6 | PTE_P | PTE_US
    mov dword [PT_B], F7 | PTE_G | URW
    mov dword [PT_B + 4], F6 | URW
    mov eax, cr4
    or eax, CR4_PGE
    mov cr4, eax
    mov eax, cr0
    or eax, CR0_WP
    mov cr0, eax
    mov eax, PD_A
    call paging_on

    CHECK_EQ "A: g", [G], 0x11
    CHECK_EQ "A: n", [N], 0x33
    ; ---- PGE toggles ----
    ; edited without INVLPG: the toggle drops both translations
    mov dword [PT_A], F2 | PTE_G | URW
    mov dword [PT_A + 4], F4 | URW
    PGE_PAIR
    CHECK_EQ "A, pge pair: g", [G], 0x22
    CHECK_EQ "A, pge pair: n", [N], 0x44
    ; several pairs in a row change nothing more
    PGE_PAIR
    PGE_PAIR
    CHECK_EQ "A, pge pairs: g", [G], 0x22
    CHECK_EQ "A, pge pairs: n", [N], 0x44
    ; B maps G elsewhere; A's global translation may survive the switch
    mov eax, PD_B
    mov cr3, eax
    OLD_OR_NEW "B: g", [G], 0x22, 0x77
    CHECK_EQ "B: n", [N], 0x66
    ; a toggle in B drops it: B's own tables answer
    PGE_PAIR
    CHECK_EQ "B, pge pair: g", [G], 0x77
    ; back to A: B's global translation may survive, a toggle drops it
    mov eax, PD_A
    mov cr3, eax
    OLD_OR_NEW "A again: g", [G], 0x77, 0x22
    PGE_PAIR
    CHECK_EQ "A, pge pair: g again", [G], 0x22
    ; PGE clear: G means nothing, a MOV to CR3 drops A's translation
    mov eax, cr4
    and eax, ~CR4_PGE
    mov cr4, eax
    CHECK_EQ "A, pge off: g", [G], 0x22
    mov eax, PD_B
    mov cr3, eax
    CHECK_EQ "B, pge off: g", [G], 0x77
    mov eax, PD_A
    mov cr3, eax
    CHECK_EQ "A, pge off: g again", [G], 0x22
    mov eax, cr4
    or eax, CR4_PGE
    mov cr4, eax
    CHECK_EQ "A, pge on: g", [G], 0x22

    ; ---- WP toggles ----
    ; edited without INVLPG: a WP toggle drops the translations too
    mov dword [PT_A], F1 | PTE_G | URW
    mov dword [PT_A + 4], F3 | URW
    WP_PAIR
    CHECK_EQ "A, wp pair: g", [G], 0x11
    CHECK_EQ "A, wp pair: n", [N], 0x33
    ; WP = 1: supervisor writes to read-only pages fault
    CHECK_EQ "wp=1 read rs", [RS], 0x55
    TRY .a_r
.a_f:
    mov dword [RS], 0xa1
.a_r:
    CHECK_EXC "wp=1 write rs", 14, 3, .a_f
    TRY .b_r
.b_f:
    mov dword [RU], 0xb1
.b_r:
    CHECK_EXC "wp=1 write ru", 14, 3, .b_f
    ; WP = 0: they succeed
    mov eax, cr0
    and eax, ~CR0_WP
    mov cr0, eax
    TRY .c_r
    mov dword [RS], 0xc1
    mov dword [RU], 0xc2
.c_r:
    CHECK_EQ "wp=0 writes", [got_vec], 0xff
    CHECK_EQ "wp=0 rs", [F5], 0xc1
    CHECK_EQ "wp=0 ru", [F6], 0xc2
    ; WP = 1 again, straight after writes that were allowed: fault
    mov eax, cr0
    or eax, CR0_WP
    mov cr0, eax
    TRY .d_r
.d_f:
    mov dword [RS], 0xd1
.d_r:
    CHECK_EXC "wp=1 again write rs", 14, 3, .d_f
    TRY .e_r
.e_f:
    mov dword [RU], 0xd2
.e_r:
    CHECK_EXC "wp=1 again write ru", 14, 3, .e_f
    CHECK_EQ "not written rs", [F5], 0xc1
    CHECK_EQ "not written ru", [F6], 0xc2
    ; many pairs, with a write under WP = 0 in each
    mov ecx, 50
.loop:
    mov eax, cr0
    and eax, ~CR0_WP
    mov cr0, eax
    mov [RS], ecx
    or eax, CR0_WP
    mov cr0, eax
    PGE_PAIR
    dec ecx
    jnz .loop
    CHECK_EQ "wp=0 loop rs", [F5], 1
    TRY .f_r
.f_f:
    mov dword [RS], 0xf1
.f_r:
    CHECK_EXC "wp=1 after loop write rs", 14, 3, .f_f
    CHECK_EQ "after loop: g", [G], 0x11
    CHECK_EQ "after loop: n", [N], 0x33

    call paging_off
    jmp finish

    ROM_END
