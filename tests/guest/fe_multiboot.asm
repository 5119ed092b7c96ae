; Multiboot v1 boot through the a.out kludge (header flag 16): the loader
; must enter with EAX = 0x2BADB002 and EBX pointing at an information
; structure holding the memory sizes, the memory map, the command line
; (kernel path, then the -append string) and the -initrd modules.
; umbra-args: -m 128 -kernel {bin} -append "hello world" -initrd "{srcdir}/fe_mod1.txt,{srcdir}/fe_mod2.txt arg=2"

    bits 32
    org 0x100000

MB_FLAGS equ 0x00010003        ; page-align modules, memory info, a.out kludge

mb_header:
    dd 0x1BADB002
    dd MB_FLAGS
    dd -(0x1BADB002 + MB_FLAGS)
    dd mb_header               ; header_addr
    dd mb_header               ; load_addr: the file starts at the header
    dd load_end                ; load_end_addr
    dd bss_end                 ; bss_end_addr
    dd start                   ; entry_addr

; EXPECT a, b, code: fail with `code` unless a == b.
%macro EXPECT 3
    cmp %1, %2
    je %%ok
    mov al, %3
    jmp fail
%%ok:
%endmacro

; ENDS_WITH str_ptr, label, code: the string at str_ptr ends with the
; bytes between label and label_end.
%macro ENDS_WITH 3
    mov esi, %1
    mov edi, %2
    mov ecx, %2_end - %2
    call ends_with
    je %%ok
    mov al, %3
    jmp fail
%%ok:
%endmacro

start:
    mov esp, stack_top
    cld
    EXPECT eax, 0x2BADB002, 1
    mov ebp, ebx                       ; the information structure

    mov eax, [ebp + 0]                 ; flags: memory, cmdline, mods, mmap
    and eax, 0x4D
    EXPECT eax, 0x4D, 2
    EXPECT dword [ebp + 4], 639, 3     ; mem_lower (KiB below the EBDA)
    EXPECT dword [ebp + 8], 127 * 1024, 4 ; mem_upper (KiB above 1 MiB)

    ; Command line: "<kernel path> hello world"
    ENDS_WITH [ebp + 16], s_cmdline, 5

    ; Memory map: four 24-byte entries.
    EXPECT dword [ebp + 44], 4 * 24, 6
    mov esi, [ebp + 48]
    mov edi, mmap_expected
    mov edx, 4
.mmap:
    EXPECT dword [esi], 20, 7          ; entry size, not counting itself
    mov eax, [esi + 4]
    EXPECT eax, [edi], 8               ; base (low half)
    EXPECT dword [esi + 8], 0, 8       ; base (high half)
    mov eax, [esi + 12]
    EXPECT eax, [edi + 4], 9           ; length
    EXPECT dword [esi + 16], 0, 9
    mov eax, [esi + 20]
    EXPECT eax, [edi + 8], 10          ; type
    add esi, 24
    add edi, 12
    dec edx
    jnz .mmap

    ; Modules: two, page-aligned, after the kernel's bss.
    EXPECT dword [ebp + 20], 2, 11
    mov esi, [ebp + 24]
    mov eax, [esi]                     ; module 1 start
    test eax, 0xfff
    jz .aligned1
    mov al, 12
    jmp fail
.aligned1:
    cmp eax, bss_end
    jae .after_kernel
    mov al, 13
    jmp fail
.after_kernel:
    EXPECT dword [eax], 'MODU', 14     ; the file's bytes
    mov ecx, [esi + 4]
    sub ecx, eax
    EXPECT ecx, 11, 15                 ; module end - start = file size
    push esi
    ENDS_WITH [esi + 8], s_mod1, 16
    pop esi
    mov eax, [esi + 16]                ; module 2 start
    test eax, 0xfff
    jz .aligned2
    mov al, 17
    jmp fail
.aligned2:
    cmp eax, [esi + 4]
    jae .ordered
    mov al, 18
    jmp fail
.ordered:
    EXPECT dword [eax], 'seco', 19
    mov ecx, [esi + 20]
    sub ecx, eax
    EXPECT ecx, 14, 20
    ENDS_WITH [esi + 24], s_mod2, 21

    mov esi, s_pass
    mov ecx, s_pass_end - s_pass
    mov dx, 0xe9
    rep outsb
    mov al, 0
    out 0xf4, al
.hang:
    hlt
    jmp .hang

; Print the failing check's number and exit with it.
fail:
    mov bl, al
    mov esi, s_fail
    mov ecx, s_fail_end - s_fail
    mov dx, 0xe9
    rep outsb
    mov al, bl
    add al, '@'
    out 0xe9, al
    mov al, 10
    out 0xe9, al
    mov al, bl
    out 0xf4, al
    hlt

; ZF = 1 if the NUL-terminated string at ESI ends with the ECX bytes at EDI.
ends_with:
    mov edx, esi
.len:
    cmp byte [edx], 0
    je .got
    inc edx
    jmp .len
.got:
    sub edx, esi
    cmp edx, ecx
    jb .no
    add esi, edx
    sub esi, ecx
    repe cmpsb
    ret
.no:
    test esp, esp                      ; ZF = 0
    ret

mmap_expected:                         ; base, length, type
    dd 0x00000000, 0x0009FC00, 1
    dd 0x0009FC00, 0x00000400, 2
    dd 0x000F0000, 0x00010000, 2
    dd 0x00100000, 127 << 20, 1
s_cmdline: db ".bin hello world"
s_cmdline_end:
s_mod1:    db "/fe_mod1.txt"
s_mod1_end:
s_mod2:    db "/fe_mod2.txt arg=2"
s_mod2_end:
s_pass:    db "fe_multiboot: all checks passed", 10
s_pass_end:
s_fail:    db "fe_multiboot: FAIL at check "
s_fail_end:

load_end:
absolute load_end
    resb 4096
stack_top:
bss_end:
