; umbra-args: -bios {bin} -no-reboot
; Restartable string instructions (SDM vol. 2, REP; vol. 3A 6.15 #PF):
; a REP MOVSB/STOSD/MOVSD runs into a not-present page, the #PF handler
; maps it and returns to the REP, which finishes the remaining iterations.
; The handler logs ECX/ESI/EDI and CR2 at each fault; the guest checks the
; registers at the fault and at the end, and the copied data.
%include "lib.inc"
%include "pm_lib.inc"

PD          equ 0x10000
PT          equ 0x11000
SRC         equ 0x100000
log         equ scratch + 0x100     ; per fault: cr2, ecx, esi, edi, err, eip

main:
    PRINT "pm_rep_fault", 10
    ; identity map 4 MiB; 0x200000, 0x201000 and 0x203000 not present
    mov edi, PT
    mov eax, 3
    mov ecx, 1024
.pt:
    mov [edi], eax
    add eax, 0x1000
    add edi, 4
    dec ecx
    jnz .pt
    mov dword [PT + 0x200 * 4], 0
    mov dword [PT + 0x201 * 4], 0
    mov dword [PT + 0x203 * 4], 0
    mov edi, PD
    xor eax, eax
    mov ecx, 1024
    rep stosd
    mov dword [PD], PT | 3
    mov eax, PD
    mov cr3, eax
    mov eax, cr0
    or eax, 0x80000000
    mov cr0, eax
    mov dword [fault_hook], pf_hook
    mov dword [resume], 0

    ; source pattern
    xor ecx, ecx
.fill:
    lea eax, [ecx * 2 + ecx + 1]
    mov [SRC + ecx], al
    inc ecx
    cmp ecx, 0x40
    jb .fill

    ; ---- REP MOVSB whose destination crosses into 0x200000 ----
    cld
    mov esi, SRC
    mov edi, 0x1ffff0
    mov ecx, 0x40
rep_movsb:
    rep movsb
    CHECK_EQ "movsb ecx", ecx, 0
    CHECK_EQ "movsb esi", esi, SRC + 0x40
    CHECK_EQ "movsb edi", edi, 0x200030
    CHECK_EQ "fault1 cr2", [log + 0], 0x200000
    CHECK_EQ "fault1 ecx", [log + 4], 0x30
    CHECK_EQ "fault1 esi", [log + 8], SRC + 0x10
    CHECK_EQ "fault1 edi", [log + 12], 0x200000
    CHECK_EQ "fault1 err", [log + 16], 2
    CHECK_SAME "fault1 eip", [log + 20], rep_movsb
    mov esi, SRC
    mov edi, 0x1ffff0
    mov ecx, 0x40
    repe cmpsb
    setne dl                ; a mismatch in the last element leaves ZF = 0
    movzx edx, dl
    add edx, ecx
    CHECK_EQ "movsb data", edx, 0

    ; ---- REP STOSD into 0x201000 ----
    mov eax, 0xdeadbeef
    mov edi, 0x200ff8
    mov ecx, 8
rep_stosd:
    rep stosd
    CHECK_EQ "stosd ecx", ecx, 0
    CHECK_EQ "stosd edi", edi, 0x201018
    CHECK_EQ "fault2 cr2", [log + 32], 0x201000
    CHECK_EQ "fault2 ecx", [log + 36], 6
    CHECK_EQ "fault2 edi", [log + 44], 0x201000
    CHECK_SAME "fault2 eip", [log + 52], rep_stosd
    mov eax, 0xdeadbeef
    mov edi, 0x200ff8
    mov ecx, 8
    repe scasd
    setne dl                ; a mismatch in the last element leaves ZF = 0
    movzx edx, dl
    add edx, ecx
    CHECK_EQ "stosd data", edx, 0

    ; ---- REP MOVSD whose source crosses into 0x203000 ----
    mov dword [0x202ff8], 0x11111111
    mov dword [0x202ffc], 0x22222222
    mov dword [scratch + 0x80], 0xffffffff
    mov dword [scratch + 0x84], 0xffffffff
    mov dword [scratch + 0x88], 0xffffffff
    mov dword [scratch + 0x8c], 0xffffffff
    mov esi, 0x202ff8
    mov edi, scratch + 0x80
    mov ecx, 4
rep_movsd:
    rep movsd
    CHECK_EQ "movsd ecx", ecx, 0
    CHECK_EQ "movsd esi", esi, 0x203008
    CHECK_EQ "fault3 cr2", [log + 64], 0x203000
    CHECK_EQ "fault3 ecx", [log + 68], 2
    CHECK_EQ "fault3 err", [log + 80], 0
    CHECK_SAME "fault3 eip", [log + 84], rep_movsd
    CHECK_EQ "movsd d0", [scratch + 0x80], 0x11111111
    CHECK_EQ "movsd d1", [scratch + 0x84], 0x22222222
    CHECK_EQ "movsd d2", [scratch + 0x88], 0
    CHECK_EQ "movsd d3", [scratch + 0x8c], 0

    CHECK_EQ "faults", [got_count], 3
    mov eax, cr0
    and eax, 0x7fffffff
    mov cr0, eax
    jmp finish

; #PF hook (called by the exception stub): log the state, map the page.
pf_hook:
    push ebx
    push edx
    mov ebx, [got_count]
    dec ebx
    shl ebx, 5
    add ebx, log
    mov eax, cr2
    mov [ebx], eax
    mov eax, [got_ecx]
    mov [ebx + 4], eax
    mov [ebx + 8], esi
    mov [ebx + 12], edi
    mov eax, [got_err]
    mov [ebx + 16], eax
    mov eax, [got_eip]
    mov [ebx + 20], eax
    mov eax, cr2
    mov edx, eax
    shr edx, 12
    and eax, 0xfffff000
    or eax, 3
    mov [PT + edx * 4], eax
    mov eax, cr2
    invlpg [eax]
    pop edx
    pop ebx
    ret

    ROM_END
